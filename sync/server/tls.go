package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/coffer-vault/coffer/sync/store"
	vstore "github.com/coffer-vault/coffer/vault/store"
)

// SPKIHash is what clients pin: the SHA-256 of a certificate's
// SubjectPublicKeyInfo, so a certificate renewed on the same key stays
// valid.
func SPKIHash(cert *x509.Certificate) [32]byte { return sha256.Sum256(cert.RawSubjectPublicKeyInfo) }

// LoadOrMakeTLS loads the certificate and key from certFile and keyFile,
// or, if both are "", from dir/tls.crt and dir/tls.key, making a
// self-signed ECDSA P-256 certificate there on first start (valid ten
// years, for the host names and addresses given plus localhost).
func LoadOrMakeTLS(dir, certFile, keyFile string, hosts []string) (tls.Certificate, [32]byte, error) {
	var pin [32]byte
	if (certFile == "") != (keyFile == "") {
		return tls.Certificate{}, pin, errors.New("--tls-cert and --tls-key go together")
	}
	if certFile == "" {
		certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
		if _, err := os.Stat(certFile); errors.Is(err, fs.ErrNotExist) {
			if err := makeSelfSigned(certFile, keyFile, hosts); err != nil {
				return tls.Certificate{}, pin, fmt.Errorf("make a TLS certificate: %w", err)
			}
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return cert, pin, fmt.Errorf("TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return cert, pin, err
	}
	return cert, SPKIHash(leaf), nil
}

// HostsNotIn returns the hosts (names or addresses) cert's leaf does not
// name.
func HostsNotIn(cert tls.Certificate, hosts []string) []string {
	if len(cert.Certificate) == 0 {
		return hosts
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return hosts
	}
	var out []string
	for _, h := range hosts {
		if leaf.VerifyHostname(h) != nil {
			out = append(out, h)
		}
	}
	return out
}

func makeSelfSigned(certFile, keyFile string, hosts []string) error {
	certPEM, keyPEM, err := selfSigned(hosts)
	if err != nil {
		return err
	}
	if err := vstore.WriteFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return vstore.WriteFileAtomic(certFile, certPEM, 0o644)
}

// selfSigned makes a self-signed ECDSA P-256 certificate, valid ten years,
// for hosts, localhost and this machine's name; it returns the PEM of the
// certificate and of its key.
func selfSigned(hosts []string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "cofferd"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if h, err := os.Hostname(); err == nil {
		tmpl.DNSNames = append(tmpl.DNSNames, h)
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), nil
}

// metaTLS is the store's meta key of the shared self-signed certificate.
const metaTLS = "tls-self-signed"

// LoadOrMakeSharedTLS is LoadOrMakeTLS for servers that share a store
// and no folder: with no certFile and keyFile, the self-signed
// certificate and its key are kept in st (made by the first server to
// start, for hosts), so that every server presents the key devices pin.
// The store already holds the server's signing key: it is trusted as
// much. A certificate of one's own (certFile, keyFile) must be the same
// on every server.
func LoadOrMakeSharedTLS(ctx context.Context, st store.Store, certFile, keyFile string, hosts []string) (tls.Certificate, [32]byte, error) {
	if certFile != "" || keyFile != "" {
		return LoadOrMakeTLS("", certFile, keyFile, hosts)
	}
	var pin [32]byte
	bundle, err := st.GetMeta(ctx, metaTLS)
	if errors.Is(err, store.ErrNotFound) {
		certPEM, keyPEM, merr := selfSigned(hosts)
		if merr != nil {
			return tls.Certificate{}, pin, fmt.Errorf("make a TLS certificate: %w", merr)
		}
		if err := st.PutMeta(ctx, metaTLS, nil, append(certPEM, keyPEM...)); err != nil && !errors.Is(err, store.ErrConflict) {
			return tls.Certificate{}, pin, err
		}
		bundle, err = st.GetMeta(ctx, metaTLS) // another server's, if it came first
	}
	if err != nil {
		return tls.Certificate{}, pin, fmt.Errorf("TLS certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(bundle, bundle)
	if err != nil {
		return cert, pin, fmt.Errorf("TLS certificate in the store: %w", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return cert, pin, err
	}
	return cert, SPKIHash(leaf), nil
}

// FormatPin writes a pin as hex.
func FormatPin(p [32]byte) string { return hex.EncodeToString(p[:]) }
