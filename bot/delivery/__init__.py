"""Delivery guarantees shared by the channels: exactly-once intake, retried and recorded output."""
