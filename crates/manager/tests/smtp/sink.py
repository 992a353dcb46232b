#!/usr/bin/env python3
"""An SMTP sink for the manager's mail test: aiosmtpd on 127.0.0.1:PORT that requires STARTTLS (with CERT/KEY) and
then AUTH (USER/PASSWORD, PLAIN or LOGIN) before it takes mail, and writes each message it takes to OUT_DIR as
<n>.json: {"auth": the user it authenticated, "tls": true when the session was encrypted, "from", "to", "data"}.
Prints "ready" once it listens. Runs until killed.

  sink.py PORT CERT KEY USER PASSWORD OUT_DIR
"""
import json, os, ssl, sys, time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, cert, key, user, password, out = sys.argv[1:7]


class Keep:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Keep.count += 1
        record = {"auth": session.auth_data.login.decode() if session.auth_data else None, "tls": session.ssl is not None,
                  "from": envelope.mail_from, "to": envelope.rcpt_tos, "data": envelope.content.decode("utf-8", "replace")}
        with open(os.path.join(out, f"{Keep.count}.json"), "w") as f:
            json.dump(record, f)
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(Keep(), hostname="127.0.0.1", port=int(port), tls_context=context, require_starttls=True,
                        auth_required=True, auth_require_tls=True, authenticator=authenticator)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
