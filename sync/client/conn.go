// Package client is the device's side of docs/sync-protocol.md: a
// connection to cofferd that pins its TLS key, signs every request and
// verifies the server's time; enrolment and pairing; pushing and pulling a
// vault's objects; and the admin's requests. It moves envelopes; the vault
// verifies everything it receives.
package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault/object"
)

// ServerError is an error response of the server.
type ServerError struct {
	Status int
	Body   wire.Error
	// Skew is, for a clock-skew refusal, how far this device's clock was
	// from the server's when it signed the request.
	Skew time.Duration
}

func (e *ServerError) Error() string {
	if e.Body.Code == wire.CodeClockSkew && e.Body.ServerTime != 0 {
		return fmt.Sprintf("this computer's clock is %s off the server's, so the server refuses its requests: set the clock right and try again", absDur(e.Skew.Round(time.Second)))
	}
	return "server: " + e.Body.Message
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// ErrUnreachable is wrapped when the server cannot be reached (offline).
var ErrUnreachable = errors.New("the server cannot be reached")

// ErrPin is wrapped when the server presents another TLS key than the
// pinned one.
var ErrPin = errors.New("the server's TLS key is not the one your invite names")

// Conn is a connection to one cofferd, as one key.
type Conn struct {
	base   *url.URL
	http   *http.Client
	keyID  string
	key    ed25519.PrivateKey
	org    object.ID
	server ed25519.PublicKey

	// Now is the device's clock (tests move it); time.Now unless set.
	Now func() time.Time
	// OnTime, if set, is called with every server time verified.
	OnTime func(time.Time)
}

// Dial returns a connection to serverURL that accepts only a server whose
// TLS certificate's SubjectPublicKeyInfo hashes to pin, signing requests as
// keyID with key (nil key: unsigned requests only).
func Dial(serverURL string, pin [32]byte, keyID string, key ed25519.PrivateKey) (*Conn, error) {
	u, err := url.Parse(serverURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("server address %q: want https://host[:port]", serverURL)
	}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{
			MinVersion: tls.VersionTLS12,
			// The pin replaces certificate authorities: only the key the
			// invite names is accepted (VerifyConnection below).
			InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 || sha256.Sum256(cs.PeerCertificates[0].RawSubjectPublicKeyInfo) != pin {
					return ErrPin
				}
				return nil
			},
		},
		ForceAttemptHTTP2:     true,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Duration(wire.MaxFeedWait+15) * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   8,
	}
	return &Conn{base: u, http: &http.Client{Transport: tr}, keyID: keyID, key: key, Now: time.Now}, nil
}

// SetServer sets the organisation and server key that sign the server's
// time; until set, responses' times are not checked.
func (c *Conn) SetServer(org object.ID, server ed25519.PublicKey) { c.org, c.server = org, server }

// Close releases idle connections.
func (c *Conn) Close() { c.http.CloseIdleConnections() }

// Request is one call.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Body   []byte
	Header http.Header
	// Stream leaves the response body open for the caller (the feed).
	Stream bool
}

// Response is a successful answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	Stream io.ReadCloser // with Request.Stream
	Time   time.Time     // the server's verified time (zero if unchecked)
}

// Do sends r, signed, and returns a 2xx answer or a *ServerError.
func (c *Conn) Do(ctx context.Context, r Request) (*Response, error) {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + r.Path
	u.RawQuery = r.Query.Encode()
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "coffer ("+runtime.GOOS+"/"+runtime.GOARCH+")")
	var nonce string
	signedAt := c.Now()
	if c.key != nil {
		if nonce, err = wire.SignRequest(req, r.Body, c.keyID, c.key, signedAt); err != nil {
			return nil, err
		}
	} else {
		req.Header.Set(wire.HeaderProtocol, "1")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, ErrPin) || strings.Contains(err.Error(), ErrPin.Error()) {
			return nil, fmt.Errorf("%s: %w", c.base.Host, ErrPin)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w (%s): %v", ErrUnreachable, c.base.Host, netCause(err))
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header}
	// Every answer to a request the server verified carries its signed
	// time; a refusal before the signature was verified (unknown or
	// revoked key) carries none, and gives none to trust.
	refusedUnsigned := resp.StatusCode/100 != 2 && resp.Header.Get(wire.HeaderTime) == ""
	if nonce != "" && c.server != nil && !refusedUnsigned {
		t, err := wire.VerifyTime(c.server, c.org, nonce, resp.Header.Get(wire.HeaderTime), resp.Header.Get(wire.HeaderTimeSig))
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("%s: %w", c.base.Host, err)
		}
		out.Time = t
		if c.OnTime != nil {
			c.OnTime(t)
		}
	}
	if resp.StatusCode/100 == 2 && r.Stream {
		out.Stream = resp.Body
		return out, nil
	}
	defer resp.Body.Close()
	limit := int64(wire.MaxObjectBody + 1024)
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w (%s): %v", ErrUnreachable, c.base.Host, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%s: the answer is over %d bytes", c.base.Host, limit)
	}
	if resp.StatusCode/100 != 2 {
		se := &ServerError{Status: resp.StatusCode}
		if json.Unmarshal(body, &se.Body) != nil || se.Body.Code == "" {
			se.Body.Code, se.Body.Message = wire.CodeInternal, fmt.Sprintf("%s answered %s", c.base.Host, resp.Status)
		}
		if se.Body.ServerTime != 0 {
			se.Skew = signedAt.Sub(time.Unix(0, se.Body.ServerTime))
		}
		return nil, se
	}
	out.Body = body
	return out, nil
}

// JSON sends in (nil for no body) and decodes the answer into out (nil to
// ignore it).
func (c *Conn) JSON(ctx context.Context, method, path string, query url.Values, in, out any) (*Response, error) {
	var body []byte
	if in != nil {
		body = wire.Marshal(in)
	}
	resp, err := c.Do(ctx, Request{Method: method, Path: path, Query: query, Body: body})
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return resp, fmt.Errorf("%s answered %s with malformed JSON: %v", c.base.Host, path, err)
		}
	}
	return resp, nil
}

// IsCode reports whether err is a server error with code.
func IsCode(err error, code string) bool {
	var se *ServerError
	return errors.As(err, &se) && se.Body.Code == code
}

// netCause is the part of a transport error a person can act on ("connect:
// connection refused"), without the request it was for.
func netCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}
