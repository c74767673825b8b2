#!/usr/bin/env bash
# A test PKI made with the openssl CLI, for the certificate sign-in tests (server/tests/tls.rs and
# end2end/tests/certificates.test.mjs): a root CA, an issuing (intermediate) CA, a server
# certificate for 127.0.0.1, and client certificates: alice and bob (valid), expired, not yet
# valid, revoked (in the issuing CA's CRL), serveronly (extendedKeyUsage serverAuth only), noeku,
# selfsigned (alice's subject, self-signed), othercn (alice's subject from an untrusted root).
# Usage: make-pki.sh DIR   (~1 s)
set -euo pipefail
export PKI="$(mkdir -p "$1" && cd "$1" && pwd)"
cd "$PKI"
for ca in root int; do mkdir -p db-$ca/new; : > db-$ca/index.txt; echo 1000 > db-$ca/serial; echo 01 > db-$ca/crlnumber; done
export SAN="email:nobody@example.org"   # set per certificate
cat > ca.cnf <<'EOF'
[ ca ]
default_ca = int
[ root ]
dir = $ENV::PKI/db-root
database = $dir/index.txt
new_certs_dir = $dir/new
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = $ENV::PKI/root.pem
private_key = $ENV::PKI/root.key
default_md = sha256
default_days = 1825
default_crl_days = 30
policy = policy_any
unique_subject = no
preserve = yes
[ int ]
dir = $ENV::PKI/db-int
database = $dir/index.txt
new_certs_dir = $dir/new
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = $ENV::PKI/int.pem
private_key = $ENV::PKI/int.key
default_md = sha256
default_days = 365
default_crl_days = 30
policy = policy_any
unique_subject = no
preserve = yes
email_in_dn = yes
[ policy_any ]
commonName = supplied
organizationName = optional
emailAddress = optional
[ int_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ server_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
[ client_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = $ENV::SAN
[ noeku_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
subjectAltName = $ENV::SAN
[ serveronly_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $ENV::SAN
EOF
Q() { "$@" >/dev/null 2>>"$PKI/pki.err" || { echo "PKI step failed: $*" >&2; tail "$PKI/pki.err" >&2; exit 1; }; }
newkey() { Q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }

# Root CA (self-signed) and intermediate CA (issued by the root).
newkey root
Q openssl req -x509 -new -key root.key -out root.pem -days 3650 -subj "/O=Waggle Test/CN=Waggle Test Root CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
newkey int
Q openssl req -new -key int.key -out int.csr -subj "/O=Waggle Test/CN=Waggle Test Issuing CA"
Q openssl ca -config ca.cnf -name root -batch -notext -extensions int_ext -in int.csr -out int.pem
cat int.pem root.pem > client-ca.pem      # trust for client certificates: intermediate + root

# Server certificate for 127.0.0.1, chain file = leaf + intermediate.
newkey server
Q openssl req -new -key server.key -out server.csr -subj "/O=Waggle Test/CN=127.0.0.1"
Q openssl ca -config ca.cnf -name int -batch -notext -extensions server_ext -in server.csr -out server.pem
cat server.pem int.pem > server.chain.pem

# Client leaves from the intermediate: issue NAME "SUBJECT" EXT [ca-args...]
issue() {
  local name=$1 subj=$2 ext=$3; shift 3
  newkey "$name"
  Q openssl req -new -key "$name.key" -out "$name.csr" -subj "$subj"
  Q openssl ca -config ca.cnf -name int -batch -notext -preserveDN -extensions "$ext" -in "$name.csr" -out "$name.pem" "$@"
}
SAN="email:alice@example.org,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@corp.example" \
  issue alice "/O=Waggle Test/CN=Alice Example/emailAddress=alice@example.org" client_ext
SAN="email:bob@example.org" issue bob "/O=Waggle Test/CN=Bob Example/emailAddress=bob@example.org" client_ext
SAN="email:old@example.org" issue expired "/CN=Expired User/emailAddress=old@example.org" client_ext \
  -startdate 20200101000000Z -enddate 20210101000000Z
SAN="email:future@example.org" issue future "/CN=Future User/emailAddress=future@example.org" client_ext \
  -startdate 20400101000000Z -enddate 20410101000000Z
SAN="email:revoked@example.org" issue revoked "/CN=Revoked User/emailAddress=revoked@example.org" client_ext
SAN="email:alice@example.org" issue serveronly "/O=Waggle Test/CN=Alice Example/emailAddress=alice@example.org" serveronly_ext
SAN="email:noeku@example.org" issue noeku "/CN=No EKU User/emailAddress=noeku@example.org" noeku_ext
cat alice.pem int.pem > alice.chain.pem

# Self-signed, same subject as alice.
newkey selfsigned
Q openssl req -x509 -new -key selfsigned.key -out selfsigned.pem -days 365 \
  -subj "/O=Waggle Test/CN=Alice Example/emailAddress=alice@example.org" \
  -addext "extendedKeyUsage=clientAuth" -addext "subjectAltName=email:alice@example.org"

# Same CN from another CA (a root not trusted by the server).
newkey other-root
Q openssl req -x509 -new -key other-root.key -out other-root.pem -days 3650 -subj "/O=Evil/CN=Other Root CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
newkey othercn
Q openssl req -new -key othercn.key -out othercn.csr -subj "/O=Waggle Test/CN=Alice Example/emailAddress=alice@example.org"
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\nsubjectAltName=email:alice@example.org\n' > othercn.ext
Q openssl x509 -req -in othercn.csr -CA other-root.pem -CAkey other-root.key -CAcreateserial -days 365 -extfile othercn.ext -out othercn.pem

# CRLs. CRL_CHECK_ALL wants a CRL from every CA of the chain: the root's (empty) too.
Q openssl ca -config ca.cnf -name root -gencrl -out root.crl.pem
Q openssl ca -config ca.cnf -name int -revoke revoked.pem -crl_reason keyCompromise
Q openssl ca -config ca.cnf -name int -gencrl -out int.crl.v1.pem        # revokes: revoked
Q openssl ca -config ca.cnf -name int -revoke bob.pem -crl_reason affiliationChanged
Q openssl ca -config ca.cnf -name int -gencrl -out int.crl.v2.pem        # revokes: revoked, bob
cp int.crl.v1.pem int.crl.pem                                            # the file the server reads
# PKCS#12 bundles for browsers and tools that want one (no password).
for name in alice bob; do
  Q openssl pkcs12 -export -in "$name.pem" -inkey "$name.key" -certfile int.pem -out "$name.p12" -passout pass:
done
