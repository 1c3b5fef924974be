package server

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/wire"
)

// caller is who signed a request.
type caller struct {
	kind   string // "device", "admin", "invite"
	device *orglog.DeviceState
	user   *orglog.UserState
	invite *orglog.InviteState
	nonce  string
	keyID  string // the signature's key ID, once verified
	body   []byte
	state  *orglog.State
}

// Which key kinds a route accepts.
type keyKinds int

const (
	deviceOnly keyKinds = 1 << iota
	adminOnly
	inviteOnly
	anyKey = deviceOnly | adminOnly | inviteOnly
)

type handler func(w http.ResponseWriter, r *http.Request, c *caller) error

func (s *Server) auth(kinds keyKinds, h handler) http.Handler {
	return s.authBody(kinds, wire.MaxJSONBody, h)
}

// authBody checks the request's signature, nonce and key, then reads at
// most limit bytes of body and checks it against the signed digest, and
// calls h. The headers are checked first: an unauthenticated request
// makes the server hold no body (one that sent 64 MiB bodies on many
// connections made it hold them all before answering 401). Bodies being
// read share bodyBudget. Every answer to a signed request carries the
// server's time, signed with the request's nonce.
func (s *Server) authBody(kinds keyKinds, limit int64, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A device not updated yet may still read its wipe order and
		// answer it: protocol 2 differs only in entries (anchors) no
		// device's view of its own wipe holds.
		if v := r.Header.Get(wire.HeaderProtocol); v != strconv.Itoa(wire.ProtocolVersion) && (v != "2" || !wipePendingRequest(r)) {
			writeError(w, http.StatusUpgradeRequired, wire.CodeProtocol,
				"this server speaks Coffer protocol "+strconv.Itoa(wire.ProtocolVersion)+"; update Coffer")
			return
		}
		c, err := s.authenticate(r.Context(), r, kinds)
		if c != nil && c.nonce != "" {
			t, sig := wire.SignTime(s.key, s.stateOrg(), s.now(), c.nonce)
			w.Header().Set(wire.HeaderTime, t)
			w.Header().Set(wire.HeaderTimeSig, sig)
		}
		if err != nil {
			s.respond(w, r, err)
			return
		}
		release, err := s.admitBody(r, c, limit)
		if err != nil {
			s.respond(w, r, err)
			return
		}
		defer release()
		if c.body, err = readLimited(w, r, min(limit, bodyNeed(r, limit))); err != nil {
			s.respond(w, r, err)
			return
		}
		if err := wire.VerifyBody(r, c.body); err != nil {
			s.respond(w, r, fail(http.StatusUnauthorized, wire.CodeUnauthorized, "the request signature is not valid: %v", err))
			return
		}
		if c.device != nil {
			_ = s.store.TouchDevice(r.Context(), c.device.ID, clientIP(r), clientOS(r), s.now())
		}
		if err := h(w, r, c); err != nil {
			s.respond(w, r, err)
		}
	})
}

func (s *Server) stateOrg() (org [32]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != nil {
		org = s.state.Org
	}
	return org
}

// authenticate checks the signature on r's headers (not its body: see
// authBody) and who signed it.
func (s *Server) authenticate(ctx context.Context, r *http.Request, kinds keyKinds) (*caller, error) {
	unauthorized := func(msg string) error { return fail(http.StatusUnauthorized, wire.CodeUnauthorized, "%s", msg) }
	sig, _, err := wire.ParseSignature(r)
	if err != nil {
		return nil, unauthorized("the request is not signed: " + err.Error())
	}
	st, err := s.orgState(ctx)
	if err != nil {
		return nil, err
	}
	if st.Size == 0 {
		return nil, fail(http.StatusConflict, wire.CodeNotFound, "this server has no organisation yet: run 'cofferd admin init'")
	}
	kind, devID, inviteKey, err := wire.KeyIDKind(sig.KeyID)
	if err != nil {
		return nil, unauthorized("unknown key")
	}
	// c.nonce is set once the signature is verified: the server's signed
	// time answers only requests it verified (a time signed over any
	// nonce would let anyone mint lease renewals).
	c := &caller{kind: kind, state: st}
	var key ed25519.PublicKey
	switch kind {
	case "device":
		if kinds&deviceOnly == 0 {
			return c, unauthorized("this request needs another key")
		}
		c.device = st.Devices[devID]
		if c.device == nil {
			return c, unauthorized("unknown device")
		}
		sent, orderDone, err := s.receiptState(ctx, c.device)
		if err != nil {
			return c, err
		}
		// A device ordered wiped may read its order and answer it for
		// good, not only until it did: a copy of it (a disk image, a
		// backup put back) that reaches the server is wiped too. Once
		// answered, it no longer follows the feed (which would tell
		// whoever holds its key when the organisation's log moves).
		ordered := c.device.Wipe != nil && wipePendingRequest(r) && (!orderDone || !feedRequest(r))
		switch {
		case ordered:
		case c.device.Revoked && c.device.Wipe == nil && !sent && receiptPost(r):
			// A revoked device that wiped itself (wrong passphrases, its
			// lease's deadline) tells the admin so, once: its receipt
			// was refused for good, and nobody heard of the wipe.
		case c.device.Wipe != nil:
			return c, fail(http.StatusUnauthorized, wire.CodeRevoked, "this device was wiped by order of the organisation's admin")
		case c.device.Revoked:
			return c, fail(http.StatusUnauthorized, wire.CodeRevoked, "this device was revoked by the organisation's admin")
		case sent:
			return c, fail(http.StatusUnauthorized, wire.CodeRevoked, "this device reported that it wiped itself: ask IT to enrol it again")
		}
		c.user = st.Users[c.device.Email]
		key = c.device.Transport
	case "admin":
		if kinds&adminOnly == 0 {
			return c, unauthorized("this request needs another key")
		}
		key = st.Admin
	case "invite":
		if kinds&inviteOnly == 0 {
			return c, unauthorized("this request needs another key")
		}
		c.invite = st.Invites[string(inviteKey)]
		if c.invite == nil {
			return c, fail(http.StatusUnauthorized, wire.CodeInvite, "the invite is unknown to this server: check the code")
		}
		if !s.now().Before(c.invite.Expires) {
			return c, fail(http.StatusUnauthorized, wire.CodeInvite, "the invite expired on %s UTC; ask your admin for a new one",
				c.invite.Expires.UTC().Format("2006-01-02 15:04"))
		}
		// An enrolled user's invite pairs a device, which one of theirs
		// approves; with none left it would only let a person taken off
		// the organisation go on reading its log. An invite the admin
		// made after every device of theirs was revoked (a lost only
		// laptop) enrols them anew.
		if c.state.Users[c.invite.Email] != nil && !c.state.EnrolsAnew(c.invite) {
			live, err := s.liveDevice(ctx, st, c.invite.Email)
			if err != nil {
				return c, err
			}
			if !live {
				return c, fail(http.StatusUnauthorized, wire.CodeInvite, "%s has no device left in the organisation: this invite no longer works; the admin revokes any device of theirs not revoked yet ('cofferd admin devices'), then makes a new invite, which enrols them anew", c.invite.Email)
			}
		}
		key = c.invite.Key
	}
	if _, err := wire.VerifyHeaders(r, key, s.now()); err != nil {
		if errors.Is(err, wire.ErrClockSkew) {
			return c, &httpError{status: http.StatusUnauthorized, code: wire.CodeClockSkew, serverTime: s.now().UnixNano(),
				msg: "this computer's clock is off the server's (" + err.Error() + "); set the clock right and try again"}
		}
		return c, unauthorized("the request signature is not valid: " + err.Error())
	}
	if err := s.store.UseNonce(ctx, sig.KeyID, sig.Nonce, sig.Created.Add(2*wire.MaxSkew)); err != nil {
		if errors.Is(err, store.ErrReplay) {
			return c, unauthorized("the request was replayed")
		}
		return c, err
	}
	c.nonce, c.keyID = sig.Nonce, sig.KeyID
	// A guest whose grant ended is refused at once, but may still
	// read the log, where an extension would be, and send the audit
	// trail of what she did while it lasted.
	if c.user != nil && c.user.Role == policy.Guest && !st.GrantLive(c.user.Email, s.now()) && !grantEndedRequest(r) {
		if g := st.Grants[c.user.Email]; g != nil {
			return c, fail(http.StatusForbidden, wire.CodeGrantEnded, "your guest access ended on %s UTC; ask the organisation to extend it",
				g.Expires.UTC().Format("2006-01-02 15:04"))
		}
		return c, fail(http.StatusForbidden, wire.CodeGrantEnded, "you have no guest access yet; ask the organisation for a grant")
	}
	return c, nil
}

// liveDevice reports whether email has a device that is neither revoked,
// nor ordered wiped, nor reported wiping itself (a receipt).
func (s *Server) liveDevice(ctx context.Context, st *orglog.State, email string) (bool, error) {
	for _, d := range st.Devices {
		if d.Email != email || d.Revoked || d.Wipe != nil {
			continue
		}
		wiped, _, err := s.receiptState(ctx, d)
		if err != nil {
			return false, err
		}
		if !wiped {
			return true, nil
		}
	}
	return false, nil
}

// Request bodies of authenticated callers held at once, from reading to
// the handler's end: bodyBudget in all, personBudget for all the keys of
// one person (her devices and invites; the admin key is one person). A
// request past its person's share is told to try again at once; one past
// the whole budget waits up to bodyWait for room, then is told to try
// again. One person with a fast line (or her stolen keys) cannot make the
// server hold more than a quarter of the budget, however many keys she
// has, nor stall everyone else's requests: those without a body never
// wait.
const (
	bodyBudget   = 512 << 20
	personBudget = 128 << 20
	bodyWait     = 30 * time.Second
)

// person names whose share of the body budget c's requests take.
func (c *caller) person() string {
	switch {
	case c.device != nil:
		return "user " + c.device.Email
	case c.invite != nil:
		return "user " + c.invite.Email
	}
	return c.kind
}

// bodyNeed is how many bytes r's body may take: its declared length, or
// limit when it is sent in chunks.
func bodyNeed(r *http.Request, limit int64) int64 {
	if r.ContentLength >= 0 {
		return r.ContentLength
	}
	return limit
}

// admitBody makes room for r's body (signed by c) within the budgets;
// release gives it back once the request is answered.
func (s *Server) admitBody(r *http.Request, c *caller, limit int64) (release func(), err error) {
	if r.ContentLength > limit {
		return nil, fail(http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "the request body is over the limit")
	}
	need := bodyNeed(r, limit)
	if need == 0 {
		return func() {}, nil
	}
	who := c.person()
	s.bodyMu.Lock()
	if s.personBodies[who]+need > personBudget {
		s.bodyMu.Unlock()
		return nil, busy("your devices have other uploads under way; try again shortly")
	}
	s.personBodies[who] += need
	s.bodyMu.Unlock()
	unkey := func() {
		s.bodyMu.Lock()
		if s.personBodies[who] -= need; s.personBodies[who] == 0 {
			delete(s.personBodies, who)
		}
		s.bodyMu.Unlock()
	}
	ctx, cancel := context.WithTimeout(r.Context(), bodyWait)
	defer cancel()
	if err := s.bodies.Acquire(ctx, need); err != nil {
		unkey()
		return nil, busy("the server is busy receiving other uploads; try again shortly")
	}
	return func() { s.bodies.Release(need); unkey() }, nil
}

// busy is a 503 the client should retry after a pause.
func busy(msg string) error {
	return &httpError{status: http.StatusServiceUnavailable, code: wire.CodeBusy, msg: msg, retryAfter: 10}
}

// clientIP is the peer address (a proxy's X-Forwarded-For is not trusted:
// deployments behind one set it in their own logs).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// grantEndedRequest reports whether a request is one a guest whose grant
// ended may still make: read her view of the log, send her audit trail and
// the receipt of a wipe of her own.
func grantEndedRequest(r *http.Request) bool {
	switch r.Method + " " + r.URL.Path {
	case "GET /v1/log/view", "POST /v1/audit", "POST /v1/receipts":
		return true
	}
	return false
}

// receiptPost reports whether r posts a wipe receipt.
func receiptPost(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == "/v1/receipts" }

// wipePendingRequest reports whether a request is one a device the admin
// ordered wiped may still make until it sends that order's receipt: read
// its order (the view of the log such a device is served) and post the
// receipt (docs/sync-protocol.md, "Remote wipe, receipts and the lease").
func wipePendingRequest(r *http.Request) bool {
	switch r.Method + " " + r.URL.Path {
	case "GET /v1/log/view", "GET /v1/feed", "GET /v1/feed/stream", "POST /v1/receipts":
		return true
	}
	return false
}

// feedRequest reports whether r follows the change feed.
func feedRequest(r *http.Request) bool {
	return r.URL.Path == "/v1/feed" || r.URL.Path == "/v1/feed/stream"
}

// clientOS is the system a client names in its User-Agent ("coffer
// (linux/amd64)"), for the admin's device list; never trusted for more.
// Anything but GOOS/GOARCH (lower-case letters and digits, a slash
// between) is dropped: the text reaches the admin's device list and the
// pairing prompt, where "linux) from 10.0.0.12" would read as a fact.
func clientOS(r *http.Request) string {
	ua := r.Header.Get("User-Agent")
	i, j := strings.IndexByte(ua, '('), strings.IndexByte(ua, ')')
	if !strings.HasPrefix(ua, "coffer ") || i < 0 || j < i || !wire.ValidOS(ua[i+1:j]) {
		return ""
	}
	return ua[i+1 : j]
}
