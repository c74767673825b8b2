#!/usr/bin/env python3
# Writes a test e-mail with a text body and one attachment: make_eml.py OUT ATTACHMENT_NAME
import sys
from email.message import EmailMessage

msg = EmailMessage()
msg["From"] = "Mallory <mallory@evil.example>"
msg["To"] = "alice@corp.example"
msg["Reply-To"] = "billing@evil.example"
msg["Subject"] = "Your invoice"
msg["Date"] = "Tue, 14 Jul 2026 10:00:00 +0000"
msg["Message-ID"] = "<1234@evil.example>"
msg["Received"] = "from mx.evil.example (mx.evil.example [203.0.113.7]) by mx.corp.example; Tue, 14 Jul 2026 10:00:01 +0000"
msg.set_content("Please pay at http://pay.evil.example/invoice?id=42 or call 198.51.100.23.\n")
msg.add_attachment(b"MZ\x90\x00fake executable payload", maintype="application",
                   subtype="octet-stream", filename=sys.argv[2])
with open(sys.argv[1], "wb") as f:
    f.write(bytes(msg))
