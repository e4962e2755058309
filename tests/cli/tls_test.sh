#!/usr/bin/env bash
# TLS and mutual TLS between adaline clients and a server, with throwaway
# certificates made here by openssl.
set -u
source "$PWD/tests/cli/test_lib.sh"
adaline="$PWD/cli/adaline"
work="${TEST_TMPDIR:-$(mktemp -d)}"
cd "$work" || exit 1

make_certificate() {  # make_certificate NAME CN: NAME.pem and NAME.key signed by ca
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" \
    -days 2 -extfile "$1.ext" 2>/dev/null
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
  -subj "/CN=adaline test CA" 2>/dev/null
make_certificate server localhost
make_certificate client worker
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 \
  -subj "/CN=someone else" 2>/dev/null

serve() {  # serve ADDRESS FLAGS...: starts a server and waits until it listens
  "$adaline" serve --listen "$@" > "serve.$$.log" 2>&1 &
  pids+=($!)
  sleep 0.5
}
stats() { "$adaline" query --stats --retry-timeout 2 "$@" > stats.log 2>&1; }

address="127.0.0.1:$(free_port)"
serve "$address" --tls-cert server.pem --tls-key server.key
stats --servers "$address" --tls-ca ca.pem && ok || { bad "TLS query failed"; cat stats.log; }
stats --servers "$address" && bad "a plaintext client reached a TLS server" || ok
stats --servers "$address" --tls-ca other.pem && bad "a client trusted the wrong CA" || ok
# Not an outage to wait out: a configuration error, said at once.
stats --servers "$address" --tls-ca other.pem --retry-timeout 60
grep -q "the TLS handshake with shard 0 at $address failed, a configuration error" stats.log && ok ||
  { bad "a failed handshake was not named:"; cat stats.log; }

mutual="127.0.0.1:$(free_port)"
serve "$mutual" --tls-cert server.pem --tls-key server.key --tls-client-ca ca.pem
stats --servers "$mutual" --tls-ca ca.pem && bad "mutual TLS let a client without certificate in" || ok
stats --servers "$mutual" --tls-ca ca.pem --tls-cert other.pem --tls-key other.key &&
  bad "mutual TLS let a client with a foreign certificate in" || ok
stats --servers "$mutual" --tls-ca ca.pem --tls-cert client.pem --tls-key client.key && ok ||
  { bad "mutual TLS refused a good client"; cat stats.log; }
printf '1 |a x\n-1 |a y\n' > data.vw
"$adaline" work --servers "$mutual" --data data.vw --tls-ca ca.pem --tls-cert client.pem \
  --tls-key client.key > work.log 2>&1 && ok || { bad "a worker over mutual TLS failed"; cat work.log; }

"$adaline" serve --listen "127.0.0.1:0" --tls-cert ca.key --tls-key server.key > bad.log 2>&1
grep -q "tls-cert ca.key holds no CERTIFICATE" bad.log && ok || { bad "a bad certificate was not refused"; cat bad.log; }
# A key that is not the certificate's is named as such, on either side.
"$adaline" serve --listen "127.0.0.1:0" --tls-cert server.pem --tls-key client.key > mismatch.log 2>&1
[[ $? -eq 1 ]] && grep -q "the private key in --tls-key client.key does not belong to the certificate in --tls-cert server.pem" mismatch.log && ok ||
  { bad "a server key of another certificate was not named:"; cat mismatch.log; }
stats --servers "$mutual" --tls-ca ca.pem --tls-cert client.pem --tls-key other.key
grep -q "the private key in --tls-key other.key does not belong to the certificate in --tls-cert client.pem" stats.log && ok ||
  { bad "a client key of another certificate was not named:"; cat stats.log; }
"$adaline" serve --listen "127.0.0.1:0" --tls-cert server.pem > half.log 2>&1
grep -q "go together" half.log && ok || { bad "--tls-cert without --tls-key was not refused"; cat half.log; }

finish
