#!/usr/bin/env python3
"""A fake WeChat server API on loopback for the schemathesis run: enough of jscode2session,
stable_token, msg_sec_check, subscribe/send and getuserphonenumber for a seeded server to log
residents in and work. Errors are WeChat's own shape ({errcode, errmsg} with HTTP 200)."""
import hashlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Handler(BaseHTTPRequestHandler):
    def reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path == "/sns/jscode2session":
            code = query.get("js_code", [""])[0]
            if not code or code.startswith("bad"):
                return self.reply({"errcode": 40029, "errmsg": "invalid code"})
            # Real openids are 28 characters whatever the code.
            openid = "o" + hashlib.sha1(code.encode()).hexdigest()[:27]
            return self.reply({"openid": openid, "session_key": "c2Vzc2lvbg=="})
        self.reply({"errcode": 40001, "errmsg": "unknown api"})

    def do_POST(self):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        if url.path == "/cgi-bin/stable_token":
            return self.reply({"access_token": "ci-token", "expires_in": 7200})
        if url.path == "/wxa/msg_sec_check":
            return self.reply({"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}})
        if url.path == "/cgi-bin/message/subscribe/send":
            return self.reply({"errcode": 0, "errmsg": "ok"})
        if url.path == "/wxa/business/getuserphonenumber":
            code = str(body.get("code", ""))
            if code.startswith("phone-"):
                number = code[len("phone-"):]
                return self.reply({"errcode": 0, "errmsg": "ok", "phone_info": {"purePhoneNumber": number}})
            return self.reply({"errcode": 40029, "errmsg": "invalid code"})
        self.reply({"errcode": 40001, "errmsg": "unknown api"})

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
