#!/usr/bin/env python3
"""A test SAML identity provider built on pysaml2 (signing with Debian's xmlsec1),
independent of samael, for Atrium's SSO tests.

    saml_idp.py metadata --entity-id E --sso-url U --key K --cert C
        prints the IdP's metadata XML.

    saml_idp.py serve --entity-id E --sso-url http://127.0.0.1:PORT/sso --key K --cert C
        runs the IdP as a small web server for a browser: GET /sso shows a sign-in
        form for the AuthnRequest, POST /sso answers with a page that posts the
        signed response to the SP's ACS (the HTTP-POST binding). The SP metadata is
        fetched from the request's issuer (Atrium's entity id is its metadata URL).

    saml_idp.py respond --entity-id E --sso-url U --key K --cert C
                        --sp-metadata FILE --request-url URL --email ADDR
                        [--name NAME] [--mode MODE] [--other-key K2 --other-cert C2]
        reads the AuthnRequest out of Atrium's redirect URL and prints JSON
        {"acs": ..., "SAMLResponse": ...}: the response to post to the ACS.

Modes (each one thing wrong, the rest as a real IdP sends it):
    ok                   signed response and assertion (RSA-SHA256)
    unsigned             nothing signed
    other-key            signed with a key Atrium does not know
    altered              signed, then the e-mail changed in the signed XML
    wrong-audience       the assertion's audience is another SP
    wrong-destination    Destination and Recipient name another ACS
    expired              issued an hour ago (every time window over)
    unknown-request      InResponseTo names a request Atrium never issued
    sha1                 signed correctly, but with RSA-SHA1
"""

import argparse
import base64
import datetime
import html
import http.server
import json
import sys
import time
import urllib.parse
import urllib.request

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2 import time_util
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256


def config(args, key, cert, sp_metadata=None):
    conf = {
        "entityid": args.entity_id,
        "service": {
            "idp": {
                "endpoints": {
                    "single_sign_on_service": [
                        (args.sso_url, BINDING_HTTP_REDIRECT),
                        (args.sso_url + "/post", BINDING_HTTP_POST),
                    ]
                },
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                "policy": {
                    "default": {
                        "lifetime": {"minutes": 5},
                        "attribute_restrictions": None,
                        "name_form": NAME_FORMAT_URI,
                        "fail_on_missing_requested": False,
                    }
                },
                "want_authn_requests_signed": False,
            }
        },
        "key_file": key,
        "cert_file": cert,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "metadata": {"inline": [sp_metadata]} if sp_metadata else {},
    }
    cfg = IdPConfig()
    cfg.load(conf)
    return cfg


def shift_clock(seconds):
    """Makes pysaml2 believe it is `seconds` later (negative: earlier)."""
    real_gmtime = time.gmtime

    def gmtime(secs=None):
        return real_gmtime((time.time() + seconds) if secs is None else secs)

    time.gmtime = gmtime

    class Shifted(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime.now(tz) + datetime.timedelta(seconds=seconds)

    time_util.datetime = Shifted


def respond(args):
    with open(args.sp_metadata, encoding="utf-8") as f:
        sp_metadata = f.read()
    key, cert = args.key, args.cert
    if args.mode == "other-key":
        key, cert = args.other_key, args.other_cert
    if args.mode == "expired":
        shift_clock(-3600)
    if args.mode == "wrong-audience":
        from saml2.assertion import Policy

        original = Policy.conditions

        def other_audience(self, sp_entity_id):
            return original(self, "https://other-service.example.com/sp")

        Policy.conditions = other_audience

    idp = Server(config=config(args, key, cert, sp_metadata))
    query = urllib.parse.parse_qs(urllib.parse.urlparse(args.request_url).query)
    saml_request = query["SAMLRequest"][0]
    request = idp.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message
    acs = request.assertion_consumer_service_url
    destination = acs
    if args.mode == "wrong-destination":
        destination = acs.rsplit("/sso/", 1)[0] + "/sso/another-org/acs"
    in_response_to = request.id
    if args.mode == "unknown-request":
        in_response_to = "_" + "f" * 40
    signed = args.mode != "unsigned"
    sha1 = args.mode == "sha1"
    xml = idp.create_authn_response(
        identity={"email": [args.email], "displayName": [args.name]},
        in_response_to=in_response_to,
        destination=destination,
        sp_entity_id=request.issuer.text,
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=args.email),
        authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
        sign_response=signed,
        sign_assertion=signed,
        sign_alg=SIG_RSA_SHA1 if sha1 else SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA1 if sha1 else DIGEST_SHA256,
    )
    xml = str(xml)
    if args.mode == "altered":
        local, domain = args.email.split("@")
        forged = "mallory@" + domain
        assert args.email in xml, "the e-mail is not in the response"
        xml = xml.replace(args.email, forged)
    body = base64.b64encode(xml.encode("utf-8")).decode("ascii")
    print(json.dumps({"acs": acs, "SAMLResponse": body}))


def serve(args):
    port = int(urllib.parse.urlparse(args.sso_url).port)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def page(self, body):
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            saml_request = query.get("SAMLRequest", [""])[0]
            self.page(
                "<!doctype html><title>Test IdP</title><h1>Test identity provider</h1>"
                '<form method="post" action="/sso" id="idp-login">'
                f'<input type="hidden" name="SAMLRequest" value="{html.escape(saml_request)}">'
                '<label>Email <input name="email" id="idp-email"></label>'
                '<button type="submit" id="idp-submit">Sign in</button></form>'
            )

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8"))
            saml_request = form["SAMLRequest"][0]
            email = form["email"][0]
            bare = Server(config=config(args, args.key, args.cert))
            request = bare.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message
            with urllib.request.urlopen(request.issuer.text) as r:
                sp_metadata = r.read().decode("utf-8")
            idp = Server(config=config(args, args.key, args.cert, sp_metadata))
            acs = request.assertion_consumer_service_url
            xml = idp.create_authn_response(
                identity={"email": [email], "displayName": [args.name]},
                in_response_to=request.id,
                destination=acs,
                sp_entity_id=request.issuer.text,
                name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
                authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
                sign_response=True,
                sign_assertion=True,
                sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
            )
            body = base64.b64encode(str(xml).encode("utf-8")).decode("ascii")
            self.page(
                "<!doctype html><title>Signing in</title>"
                f'<form method="post" action="{html.escape(acs)}" id="to-sp">'
                f'<input type="hidden" name="SAMLResponse" value="{body}">'
                "<noscript><button>Continue</button></noscript></form>"
                "<script>document.getElementById('to-sp').submit()</script>"
            )

    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


def metadata(args):
    cfg = config(args, args.key, args.cert)
    print(str(entity_descriptor(cfg)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["metadata", "respond", "serve"])
    p.add_argument("--entity-id", required=True)
    p.add_argument("--sso-url", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--sp-metadata")
    p.add_argument("--request-url")
    p.add_argument("--email")
    p.add_argument("--name", default="Test User")
    p.add_argument("--mode", default="ok")
    p.add_argument("--other-key")
    p.add_argument("--other-cert")
    args = p.parse_args()
    if args.command == "metadata":
        metadata(args)
    elif args.command == "serve":
        serve(args)
    else:
        respond(args)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the test shows stderr
        print(f"saml_idp.py failed: {e!r}", file=sys.stderr)
        raise
