"""C2SP signed notes with Ed25519 and the tlog-checkpoint body they carry.

See https://c2sp.org/signed-note and https://c2sp.org/tlog-checkpoint. A checkpoint is the text
`<origin>\\n<tree size>\\n<base64 root>\\n<extension lines>` signed by the key named after the origin.
"""

import base64
import binascii
import datetime
import hashlib
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ED25519_ALGORITHM = b"\x01"
SIGNATURE_PREFIX = "\u2014 "
DEFAULT_ORIGIN = "family-contact-review/audit"


class NoteError(ValueError):
    """A note or checkpoint that cannot be parsed or whose signature does not verify."""


def origin() -> str:
    """The checkpoint origin line, which is also the signing key's name."""
    return getattr(settings, "AUDIT_ORIGIN", "") or DEFAULT_ORIGIN


def _decode_key(value: str, setting: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{setting} is not valid base64.") from exc
    if len(raw) != 32:
        raise ImproperlyConfigured(f"{setting} must be 32 raw bytes, base64-encoded.")
    return raw


def signing_key() -> Ed25519PrivateKey:
    """The Ed25519 key from AUDIT_SIGNING_KEY (base64 of the raw 32-byte seed)."""
    value = settings.AUDIT_SIGNING_KEY
    if not value:
        raise ImproperlyConfigured("AUDIT_SIGNING_KEY is required to write audit checkpoints.")
    return Ed25519PrivateKey.from_private_bytes(_decode_key(value, "AUDIT_SIGNING_KEY"))


def public_key() -> Ed25519PublicKey:
    """The verification key from AUDIT_PUBLIC_KEY, or derived from AUDIT_SIGNING_KEY when only that is set."""
    value = settings.AUDIT_PUBLIC_KEY
    if value:
        return Ed25519PublicKey.from_public_bytes(_decode_key(value, "AUDIT_PUBLIC_KEY"))
    if settings.AUDIT_SIGNING_KEY:
        return signing_key().public_key()
    raise ImproperlyConfigured("AUDIT_PUBLIC_KEY is required to verify audit checkpoints.")


def raw_public_bytes(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, key: Ed25519PublicKey) -> bytes:
    """The 4-byte signed-note key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_ALGORITHM + raw_public_bytes(key)).digest()[:4]


def verifier_key(name: str, key: Ed25519PublicKey) -> str:
    """The `<name>+<hex key id>+<base64 key>` verifier string other signed-note tools take."""
    encoded = base64.b64encode(ED25519_ALGORITHM + raw_public_bytes(key)).decode()
    return f"{name}+{key_id(name, key).hex()}+{encoded}"


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """Sign `text` (which must end in a newline) as a signed note."""
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    signature = key.sign(text.encode())
    blob = base64.b64encode(key_id(name, key.public_key()) + signature).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{name} {blob}\n"


def open_note(note: str, name: str, key: Ed25519PublicKey) -> str:
    """The text of a signed note once a signature by (`name`, `key`) verifies; raise NoteError otherwise."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteError("not a signed note")
    text += "\n"
    wanted_id = key_id(name, key)
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed signature line")
        signer, _, blob = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise NoteError("malformed signature") from exc
        if signer != name or raw[:4] != wanted_id:
            continue  # another party's cosignature: not ours to check
        try:
            key.verify(raw[4:], text.encode())
        except InvalidSignature as exc:
            raise NoteError("signature does not verify") from exc
        return text
    raise NoteError("no signature by the audit key")


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint: the log's origin, its size and Merkle root, and extension lines."""

    origin: str
    tree_size: int
    root: bytes
    extensions: tuple[str, ...] = field(default=())

    def body(self) -> str:
        """The checkpoint text that gets signed."""
        lines = [self.origin, str(self.tree_size), base64.b64encode(self.root).decode(), *self.extensions]
        return "\n".join(lines) + "\n"

    def extension(self, keyword: str) -> str | None:
        """The value of the first extension line `<keyword> <value>`."""
        for line in self.extensions:
            word, _, value = line.partition(" ")
            if word == keyword:
                return value
        return None


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint body (the text of a verified note)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("checkpoint body too short")
    origin_line, size_line, root_line, *extensions = lines[:-1]
    if not size_line.isdigit() or (size_line.startswith("0") and size_line != "0"):
        raise NoteError("bad tree size")
    try:
        root = base64.b64decode(root_line, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("bad root hash") from exc
    if len(root) != 32 or not origin_line or any(not line for line in extensions):
        raise NoteError("malformed checkpoint")
    return Checkpoint(origin_line, int(size_line), root, tuple(extensions))


def checkpoint_sign(
    tree_size: int,
    root: bytes,
    head_hash: bytes,
    at: datetime.datetime,
    *,
    sealed_by: tuple[int, int, int] | None = None,
    horizon: tuple[int, int] | None = None,
) -> str:
    """A signed checkpoint for the chain of `tree_size` events, its Merkle root and chain head hash.

    `sealed_by` is (first seq, 64-bit transaction id, cluster system identifier) when the seal that made
    this tree wrote events first seq..tree_size in one PostgreSQL (sub)transaction: the `sealed-xmin`
    line lets verify skip rebuilding those rows. `horizon` is (64-bit transaction id, cluster): every
    event sealed after this tree was written by that transaction or a later one, so an incremental verify
    finds them through the `txid` index.
    """
    stamp = at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    extensions: tuple[str, ...] = (f"time {stamp}", f"chain {base64.b64encode(head_hash).decode()}")
    if sealed_by is not None:
        extensions += ("sealed-xmin " + " ".join(str(value) for value in sealed_by),)
    if horizon is not None:
        extensions += ("horizon " + " ".join(str(value) for value in horizon),)
    body = Checkpoint(origin(), tree_size, root, extensions).body()
    return sign_note(body, origin(), signing_key())


def checkpoint_unverified(note: str) -> Checkpoint:
    """Parse a signed checkpoint without checking any signature: for comparing it with state the caller
    already holds (the sealer's chain head), never for trusting what it says."""
    text, separator, _ = note.rpartition("\n\n")
    if not separator:
        raise NoteError("not a signed note")
    return parse_checkpoint(text + "\n")


def checkpoint_open(note: str, key: Ed25519PublicKey | None = None) -> Checkpoint:
    """Verify a signed checkpoint with the audit public key and parse it; raise NoteError when it fails."""
    name = origin()
    checkpoint = parse_checkpoint(open_note(note, name, key or public_key()))
    if checkpoint.origin != name:
        raise NoteError("checkpoint of another log")
    return checkpoint
