"""Attachments: photos, audio, video and PDFs on entries, kept once per user and content in a
content-addressed store (filesystem or S3), served to their owner only (docs/attachments.md)."""
