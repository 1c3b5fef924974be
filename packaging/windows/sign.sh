#!/usr/bin/env bash
# Authenticode signatures (SHA-256) for Coffer's Windows programs, with
# osslsigncode.
#
#   sign.sh setup DIR          choose the certificate, note it in DIR
#   sign.sh sign DIR FILE      sign FILE in place
#   sign.sh verify DIR FILE    check FILE's signature against DIR's CA
#
# The real certificate comes from the environment when it is there:
#   COFFER_SIGN_PKCS12         the code-signing certificate and key (.p12/.pfx)
#   COFFER_SIGN_PASSWORD_FILE  a file holding its password (or
#   COFFER_SIGN_PASSWORD       the password itself)
#   COFFER_SIGN_CAFILE         the CA bundle verify checks against
#                              (default: the system's)
#   COFFER_SIGN_TIMESTAMP_URL  an RFC 3161 time-stamping service, so that the
#                              signature outlives the certificate
# Without COFFER_SIGN_PKCS12 it makes a throwaway CA and a code-signing
# certificate under it, valid for 30 days and trusted by nobody: the
# installer is then signed so that the signing and its verification are
# tested, and Windows will still call its publisher unknown.
set -euo pipefail

die() { echo "sign.sh: $*" >&2; exit 1; }

setup() {
	local dir=$1
	mkdir -p "$dir"
	chmod 700 "$dir"
	if [ -n "${COFFER_SIGN_PKCS12:-}" ]; then
		[ -r "$COFFER_SIGN_PKCS12" ] || die "COFFER_SIGN_PKCS12=$COFFER_SIGN_PKCS12 is not readable"
		if [ -n "${COFFER_SIGN_PASSWORD_FILE:-}" ]; then
			cp "$COFFER_SIGN_PASSWORD_FILE" "$dir/password"
		else
			printf '%s' "${COFFER_SIGN_PASSWORD:?set COFFER_SIGN_PASSWORD or COFFER_SIGN_PASSWORD_FILE}" >"$dir/password"
		fi
		chmod 600 "$dir/password"
		ln -sf "$(realpath "$COFFER_SIGN_PKCS12")" "$dir/sign.p12"
		cp "${COFFER_SIGN_CAFILE:-/etc/ssl/certs/ca-certificates.crt}" "$dir/ca.pem"
		echo real >"$dir/kind"
		echo "signing with the certificate in COFFER_SIGN_PKCS12"
		return
	fi
	(
		cd "$dir"
		umask 077
		openssl rand -hex 24 >password
		openssl req -x509 -newkey rsa:3072 -nodes -keyout ca.key -out ca.pem -days 30 \
			-subj "/CN=Coffer throwaway test CA (not trusted)" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
		openssl req -newkey rsa:3072 -nodes -keyout sign.key -out sign.csr \
			-subj "/CN=Coffer test signing (not trusted)/O=Coffer" 2>/dev/null
		printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >ext.cnf
		openssl x509 -req -in sign.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
			-extfile ext.cnf -out sign.pem 2>/dev/null
		openssl pkcs12 -export -out sign.p12 -inkey sign.key -in sign.pem -certfile ca.pem \
			-passout file:password
		rm -f ca.key sign.csr ext.cnf ca.srl
		echo test >kind
	)
	echo "signing with a throwaway test certificate (COFFER_SIGN_PKCS12 is not set)"
}

sign() {
	local dir=$1 file=$2 ts=()
	[ -f "$dir/sign.p12" ] || die "no certificate in $dir: run sign.sh setup first"
	if [ -n "${COFFER_SIGN_TIMESTAMP_URL:-}" ]; then
		ts=(-ts "$COFFER_SIGN_TIMESTAMP_URL")
	fi
	rm -f "$file.signed"
	osslsigncode sign -pkcs12 "$dir/sign.p12" -readpass "$dir/password" -h sha256 \
		-n "Coffer" -i "https://github.com/coffer-vault/coffer" "${ts[@]}" \
		-in "$file" -out "$file.signed" >/dev/null
	mv "$file.signed" "$file"
}

verify() {
	local dir=$1 file=$2
	osslsigncode verify -CAfile "$dir/ca.pem" -in "$file"
}

case "${1:-}" in
setup) setup "${2:?DIR}" ;;
sign) sign "${2:?DIR}" "${3:?FILE}" ;;
verify) verify "${2:?DIR}" "${3:?FILE}" ;;
*) die "usage: sign.sh setup DIR | sign DIR FILE | verify DIR FILE" ;;
esac
