"""Reads adaline model files (checkpoints, merged and weights-only models)
without a server.

The format (core/model_file.cc writes it, little-endian): the 8 bytes
"ADALINE\\n", a uint32 format version (1), a uint32 header size and the
ModelHeader message (proto/model.proto); then per entry a uint64 key, the
low 32 bits of its last step, a float32 weight and state_width float32s of
optimizer state; then per stored name a uint64 key, a uint32 size and the
name's bytes; last, the XXH3-64 of everything before it.
"""

import numpy as np
import xxhash

from adaline._proto import model_pb2

_MAGIC = b"ADALINE\n"
_VERSION = 1
_MAX_HEADER_BYTES = 1 << 20


class ModelFileError(Exception):
    """The file is not a readable adaline model; the message says why."""


class Model:
    """A model file's contents, as stored: each entry as of its last step.
    (adaline catches an idle coordinate up on the steps it missed when it is
    read; with SGD and AdaGrad without --l1/--l2 that changes nothing, with
    the other optimizers `adaline inspect` or a server shows caught-up
    values.)

    keys: uint64 array; weights: float32 array; states: float32 array of
    shape (len(keys), state_width); last_steps: uint64 array; names: {key:
    "namespace^name"} for the keys whose names were kept; config: the
    model's settings as a dict (optimizer with its hyperparameters, loss,
    bias, interactions, step, weights_only); state_names: what each state
    column is.
    """

    def __init__(self, header, keys, last_steps, weights, states, names):
        self.header = header
        self.keys = keys
        self.last_steps = last_steps
        self.weights = weights
        self.states = states
        self.names = names
        self.state_names = (list(header.state_names) or
                            [f"state{i}" for i in range(header.state_width)])

    @property
    def step(self):
        return self.header.step

    @property
    def config(self):
        optimizer = self.header.optimizer
        hyperparameters = {
            field.name: getattr(optimizer, field.name)
            for field in optimizer.DESCRIPTOR.fields
            if field.name not in ("name", "more_hyperparameters")}
        hyperparameters.update(optimizer.more_hyperparameters)
        return {
            "optimizer": optimizer.name,
            "hyperparameters": hyperparameters,
            "loss": self.header.loss,
            "bias": self.header.bias,
            "interactions": list(self.header.interactions),
            "step": self.header.step,
            "weights_only": self.header.weights_only,
        }

    def weight(self, name_or_key):
        """The weight of a key, or of a feature by its stored name; 0 for
        one the model does not hold."""
        key = name_or_key
        if isinstance(name_or_key, str):
            matches = [k for k, n in self.names.items() if n == name_or_key]
            if not matches:
                raise KeyError(f"{name_or_key!r}: no such name stored in the "
                               "model (train with --keep-names)")
            key = matches[0]
        found = np.nonzero(self.keys == np.uint64(key))[0]
        return float(self.weights[found[0]]) if len(found) else 0.0

    def to_frame(self):
        """A pandas DataFrame with one row per key: key, name, weight,
        last_step and one column per state float. Needs pandas."""
        import pandas  # optional: only this method needs it

        frame = pandas.DataFrame({
            "key": self.keys,
            "name": [self.names.get(int(k), "") for k in self.keys],
            "weight": self.weights,
            "last_step": self.last_steps,
        })
        for column, name in enumerate(self.state_names):
            frame[name] = self.states[:, column]
        return frame


def read_model(path):
    """Reads and checks the model file at `path`: a Model, or
    ModelFileError naming what is wrong."""
    with open(path, "rb") as file:
        data = file.read()
    def corrupt(what):
        return ModelFileError(f"{path}: model file is corrupt ({what})")
    if data[:8] != _MAGIC:
        raise ModelFileError(f"{path}: not an adaline model file")
    if len(data) < 24:
        raise corrupt("truncated")
    body, checksum = data[:-8], int.from_bytes(data[-8:], "little")
    if xxhash.xxh3_64_intdigest(body) != checksum:
        raise corrupt("checksum mismatch")
    version = int.from_bytes(body[8:12], "little")
    if version != _VERSION:
        raise ModelFileError(
            f"{path}: model format version {version} is not supported (this "
            f"reader reads version {_VERSION})")
    header_size = int.from_bytes(body[12:16], "little")
    if header_size > _MAX_HEADER_BYTES or 16 + header_size > len(body):
        raise corrupt(f"header size {header_size}")
    header = model_pb2.ModelHeader()
    try:
        header.ParseFromString(body[16:16 + header_size])
    except Exception:
        raise corrupt("unreadable header") from None
    width = header.state_width
    entry_type = np.dtype([("key", "<u8"), ("last_step", "<u4"),
                           ("weight", "<f4"), ("state", "<f4", (width,))])
    offset = 16 + header_size
    entries_end = offset + header.entry_count * entry_type.itemsize
    if entries_end > len(body):
        raise corrupt(f"{header.entry_count} entries do not fit")
    entries = np.frombuffer(body, dtype=entry_type, count=header.entry_count,
                            offset=offset)
    names = {}
    offset = entries_end
    for _ in range(header.name_count):
        if offset + 12 > len(body):
            raise corrupt("names do not fit")
        key = int.from_bytes(body[offset:offset + 8], "little")
        size = int.from_bytes(body[offset + 8:offset + 12], "little")
        offset += 12
        if offset + size > len(body):
            raise corrupt("names do not fit")
        names[key] = body[offset:offset + size].decode("utf-8", "replace")
        offset += size
    if offset != len(body):
        raise corrupt(f"{len(body) - offset} bytes after the names")
    return Model(header, entries["key"].copy(),
                 _full_steps(entries["last_step"], header.step),
                 entries["weight"].copy(),
                 entries["state"].reshape(len(entries), width).copy(), names)


def _full_steps(low_bits, step):
    """The latest step at or before `step` with each of `low_bits`: files
    keep a step's low 32 bits, and no entry is 2^31 steps behind."""
    low = low_bits.astype(np.uint64)
    behind = (np.uint64(step) - low) & np.uint64(0xFFFFFFFF)
    behind = np.minimum(behind, np.uint64(step))
    return np.uint64(step) - behind
