"""A client for running adaline parameter servers.

The shards of one model are spoken to as one, as the C++ ClusterClient does:
keys go to the shard that owns them (key mod shard count), a prediction is
the sum of every shard's part, and every call is retried with backoff while
a shard is unavailable, up to `retry_timeout` seconds.

A Client may be shared by threads: gRPC channels and stubs are thread-safe
and the client keeps no other state.
"""

import time

import grpc
import numpy as np

from adaline._proto import adaline_pb2
from adaline._proto import adaline_pb2_grpc

# The C++ client's policy (client/retry.cc): these codes mean "try again
# later", the shard is starting or restarting; anything else, and a failed
# TLS handshake (a configuration error), is raised at once.
_RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
              grpc.StatusCode.ABORTED, grpc.StatusCode.CANCELLED)
# Reconnect soon after a shard comes back, as the C++ channels do.
_CHANNEL_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 100),
                    ("grpc.min_reconnect_backoff_ms", 100),
                    ("grpc.max_reconnect_backoff_ms", 1000)]


class AdalineError(Exception):
    """A call failed; the message names the shard and what went wrong."""


class Client:
    """The shards of one adaline model, listed in shard order."""

    def __init__(self, servers, token=None, tls=None, retry_timeout=10.0,
                 call_timeout=30.0, max_message_bytes=256 << 20):
        """Connects lazily to `servers` (a list or "host:port,host:port").

        token: sent as "authorization: Bearer TOKEN".
        tls: None for plaintext, or a dict with "ca" (a CA bundle path) and,
            for client certificates, "cert" and "key" paths.
        """
        if isinstance(servers, str):
            servers = [s for s in servers.split(",") if s]
        if not servers:
            raise ValueError("servers names no server")
        self.servers = list(servers)
        self._token = token
        self._retry_timeout = retry_timeout
        self._call_timeout = call_timeout
        options = _CHANNEL_OPTIONS + [
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes)]
        credentials = _credentials(tls)
        self._channels = [
            grpc.secure_channel(a, credentials, options) if credentials
            else grpc.insecure_channel(a, options) for a in self.servers]
        self._stubs = [adaline_pb2_grpc.ParameterServerStub(c)
                       for c in self._channels]

    def close(self):
        for channel in self._channels:
            channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()

    @property
    def shard_count(self):
        return len(self.servers)

    def stats(self):
        """Each shard's StatsResponse, in shard order, after checking that
        the shard at position i is shard i of shard_count."""
        all_stats = [self._call(s, "Stats", adaline_pb2.StatsRequest())
                     for s in range(self.shard_count)]
        for i, stats in enumerate(all_stats):
            if (stats.shard_count != self.shard_count
                    or stats.shard_index != i):
                raise AdalineError(
                    f"the server at {self.servers[i]} is shard "
                    f"{stats.shard_index}/{stats.shard_count} but is listed "
                    f"at position {i} of {self.shard_count}: list every "
                    "shard of the cluster, shard I at position I")
        return all_stats

    def query(self, names):
        """Weights and optimizer state of features by name
        ("namespace^name"), as {name: dict}. Each dict has "present",
        "weight", "last_step" and "state" ({state name: value}); a feature
        that never had a gradient has present False and weight 0."""
        names = list(names)
        state_names = list(self.stats()[0].state_names)
        request = adaline_pb2.QueryRequest(names=names)
        answers = {}
        # Each shard hashes the names and says which it owns, so this
        # client needs no copy of the hashing.
        for s in range(self.shard_count):
            for feature in self._call(s, "Query", request).features:
                if not feature.owned:
                    continue
                answers[feature.name] = {
                    "key": feature.key,
                    "present": feature.present,
                    "weight": feature.weight,
                    "last_step": feature.last_step,
                    "state": dict(zip(state_names, feature.state)),
                }
        return answers

    def pull(self, keys):
        """Current weights of 64-bit keys, as a float32 array in key order.
        Unknown keys read 0."""
        keys = np.asarray(keys, dtype=np.uint64)
        weights = np.zeros(len(keys), dtype=np.float32)
        shards = keys % np.uint64(self.shard_count)
        for s in range(self.shard_count):
            mine = np.nonzero(shards == s)[0]
            if len(mine) == 0:
                continue
            request = adaline_pb2.PullRequest(keys=keys[mine].tolist())
            response = self._call(s, "Pull", request)
            weights[mine] = np.asarray(response.weights, dtype=np.float32)
        return weights

    def predict(self, lines, raw=False):
        """Predictions for examples written as VW text lines, from the live
        model: probabilities for logistic loss, margins otherwise (or always
        with raw). Each shard parses the lines with the model's own settings
        (bias, crosses) and scores the features it owns; the parts are added
        here."""
        lines = [lines] if isinstance(lines, str) else list(lines)
        request = adaline_pb2.PredictRequest(lines=lines)
        margins = np.zeros(len(lines), dtype=np.float32)
        loss = None
        for s in range(self.shard_count):
            response = self._call(s, "Predict", request)
            if len(response.margins) != len(lines):
                raise AdalineError(
                    f"shard {s} at {self.servers[s]} answered "
                    f"{len(response.margins)} margins for {len(lines)} lines")
            margins += np.asarray(response.margins, dtype=np.float32)
            loss = loss or response.loss
        if raw or loss != "logistic":
            return margins
        return (1 / (1 + np.exp(-margins.astype(np.float64)))).astype(
            np.float32)

    def checkpoint(self):
        """Asks every shard to write a checkpoint now; [(path, step)] in
        shard order."""
        return [(r.path, r.step) for r in
                (self._call(s, "Checkpoint", adaline_pb2.CheckpointRequest())
                 for s in range(self.shard_count))]

    def _call(self, shard, method, request):
        """One unary call under the retry policy."""
        metadata = ([("authorization", "Bearer " + self._token)]
                    if self._token else None)
        call = getattr(self._stubs[shard], method)
        give_up = time.monotonic() + self._retry_timeout
        try:
            return call(request, timeout=self._call_timeout,
                        metadata=metadata)
        except grpc.RpcError as error:
            first = error
            self._raise_unless_transient(shard, method, error)
        # The shard is down or starting: wait for it while the patience
        # lasts (gRPC reconnects and sends the call once it can).
        while time.monotonic() < give_up:
            try:
                return call(request, wait_for_ready=True, metadata=metadata,
                            timeout=max(0.01, min(self._call_timeout,
                                                  give_up - time.monotonic())))
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                    self._raise_unless_transient(shard, method, error)
        raise AdalineError(
            f"shard {shard} at {self.servers[shard]}: {method.lower()} "
            f"failed: unreachable for {self._retry_timeout:g} s: "
            f"{first.code().name}: {first.details()}")

    def _raise_unless_transient(self, shard, method, error):
        details = error.details() or ""
        if "handshake failed" in details.lower():
            raise AdalineError(
                f"the TLS handshake with shard {shard} at "
                f"{self.servers[shard]} failed, a configuration error: check "
                f"tls['ca'] and the client certificate ({details})") from None
        if error.code() not in _RETRYABLE:
            raise AdalineError(
                f"shard {shard} at {self.servers[shard]}: {method.lower()} "
                f"failed: {error.code().name}: {details}") from None


def _credentials(tls):
    if not tls:
        return None
    def read(key):
        path = tls.get(key)
        if not path:
            return None
        with open(path, "rb") as file:
            return file.read()
    if bool(tls.get("cert")) != bool(tls.get("key")):
        raise ValueError("tls needs both cert and key, or neither")
    return grpc.ssl_channel_credentials(
        root_certificates=read("ca"), private_key=read("key"),
        certificate_chain=read("cert"))
