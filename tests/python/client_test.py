"""The Python package against real `adaline serve` shards: stats, query,
pull, predict and checkpoint through Client, and read_model on what the
servers and `adaline train` write, checked against the command line."""

import os
import socket
import subprocess
import tempfile
import time
import unittest

import numpy as np

import adaline

ADALINE = os.environ["ADALINE"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args):
    return subprocess.run([ADALINE, *args], check=True, capture_output=True,
                          text=True)


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        cls.data = os.path.join(cls.dir, "train.vw")
        cls.test = os.path.join(cls.dir, "test.vw")
        run("generate", "--rows", "6000", "--seed", "21", "--out", cls.data)
        run("generate", "--rows", "300", "--seed", "22", "--out", cls.test)
        cls.addresses = [f"127.0.0.1:{free_port()}" for _ in range(2)]
        cls.servers = []
        for i, address in enumerate(cls.addresses):
            cls.servers.append(subprocess.Popen(
                [ADALINE, "serve", "--listen", address, "--shard", f"{i}/2",
                 "-q", "um", "--checkpoint-dir",
                 os.path.join(cls.dir, f"shard{i}")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        run("work", "--servers", ",".join(cls.addresses), "--data", cls.data)
        cls.client = adaline.Client(cls.addresses)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        for server in cls.servers:
            server.terminate()
            server.wait()

    def test_stats_come_in_shard_order(self):
        stats = self.client.stats()
        self.assertEqual([s.shard_index for s in stats], [0, 1])
        self.assertEqual(stats[0].step, 6000)
        self.assertEqual(list(stats[0].interactions), ["um"])
        swapped = adaline.Client(list(reversed(self.addresses)))
        with self.assertRaisesRegex(adaline.AdalineError,
                                    "is listed at position 0"):
            swapped.stats()

    def test_query_pull_and_predict_agree_with_a_checkpoint(self):
        written = self.client.checkpoint()
        self.assertEqual(len(written), 2)
        for path, step in written:
            self.assertTrue(os.path.exists(path), path)
            self.assertEqual(step, 6000)
        merged = os.path.join(self.dir, "merged.model")
        run("merge", "--model-out", merged, *[p for p, _ in written])
        model = adaline.read_model(merged)
        self.assertEqual(model.step, 6000)
        self.assertEqual(model.config["interactions"], ["um"])

        names = ["movie^is_director_nolan", "^__bias__", "movie^no_such_thing"]
        answers = self.client.query(names)
        self.assertEqual(set(answers), set(names))
        for name in names[:2]:
            self.assertTrue(answers[name]["present"], name)
            self.assertEqual(answers[name]["weight"],
                             model.weight(answers[name]["key"]), name)
            self.assertIn("accumulator", answers[name]["state"])
        self.assertFalse(answers["movie^no_such_thing"]["present"])

        keys = model.keys[:500]
        np.testing.assert_array_equal(self.client.pull(keys),
                                      model.weights[:500])
        self.assertEqual(self.client.pull([12345])[0], 0)

        with open(self.test) as file:
            lines = file.read().splitlines()
        out = os.path.join(self.dir, "predictions.txt")
        run("predict", "--model", merged, "--data", self.test, "--out", out)
        expected = np.loadtxt(out)
        live = self.client.predict(lines)
        np.testing.assert_allclose(live, expected, atol=1e-6)
        margins = self.client.predict(lines, raw=True)
        np.testing.assert_allclose(1 / (1 + np.exp(-margins)), live,
                                   atol=1e-6)
        self.assertEqual(self.client.predict(lines[0]).shape, (1,))

    def test_a_bad_line_is_named(self):
        with self.assertRaisesRegex(adaline.AdalineError,
                                    "INVALID_ARGUMENT: line 1 of the request"):
            self.client.predict(["1 |u a", "1 |u a:not_a_number"])

    def test_an_unreachable_server_is_named_after_the_patience(self):
        start = time.monotonic()
        client = adaline.Client("127.0.0.1:1", retry_timeout=0.5)
        with self.assertRaisesRegex(adaline.AdalineError,
                                    "shard 0 at 127.0.0.1:1.*unreachable for "
                                    "0.5 s: UNAVAILABLE"):
            client.stats()
        self.assertLess(time.monotonic() - start, 10)


class TlsTokenTest(unittest.TestCase):
    """Over TLS a stranger is refused on its metadata, before its message
    is read: a request over the size limit gets UNAUTHENTICATED, not the
    size error that reading it would give."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        def path(name):
            return os.path.join(cls.dir, name)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", path("server.key"), "-out", path("server.pem"),
             "-days", "2", "-subj", "/CN=localhost", "-addext",
             "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, capture_output=True)
        with open(path("tokens"), "w") as file:
            file.write("reader reader-token-0123456789\n")
        cls.address = f"127.0.0.1:{free_port()}"
        cls.server = subprocess.Popen(
            [ADALINE, "serve", "--listen", cls.address, "--tls-cert",
             path("server.pem"), "--tls-key", path("server.key"),
             "--auth-tokens", path("tokens"), "--max-message-bytes",
             "65536"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.tls = {"ca": path("server.pem")}
        reader = adaline.Client(cls.address, token="reader-token-0123456789",
                                tls=cls.tls, retry_timeout=10)
        reader.stats()  # up
        reader.close()

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait()

    def test_strangers_are_refused_before_their_message_is_read(self):
        big = ["|u " + " ".join(f"f{i}" for i in range(50))] * 400  # ~90 KB
        stranger = adaline.Client(self.address, token="not-a-known-token-xx",
                                  tls=self.tls, retry_timeout=0.2)
        with self.assertRaisesRegex(adaline.AdalineError,
                                    "UNAUTHENTICATED: unknown token"):
            stranger.predict(big)
        nobody = adaline.Client(self.address, tls=self.tls, retry_timeout=0.2)
        with self.assertRaisesRegex(adaline.AdalineError,
                                    "UNAUTHENTICATED: no token"):
            nobody.predict(big)
        reader = adaline.Client(self.address, token="reader-token-0123456789",
                                tls=self.tls, retry_timeout=0.2)
        self.assertEqual(reader.predict(big[:2]).shape, (2,))
        with self.assertRaisesRegex(adaline.AdalineError,
                                    "RESOURCE_EXHAUSTED"):
            reader.predict(big)


def peak_kb(pid):
    """The peak resident memory of process `pid`, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        return [int(line.split()[1]) for line in status
                if line.startswith("VmHWM:")][0]


class RequestMemoryTest(unittest.TestCase):
    """A flood of large requests from a stranger over plaintext: the shard
    refuses what does not fit in --max-request-memory instead of buffering
    it all, stays small, and serves on."""

    def test_a_flood_of_large_requests_cannot_exhaust_the_server(self):
        from adaline._proto import adaline_pb2, adaline_pb2_grpc
        import grpc
        import threading
        directory = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        tokens = os.path.join(directory, "tokens")
        with open(tokens, "w") as file:
            file.write("reader reader-token-0123456789\n")
        address = f"127.0.0.1:{free_port()}"
        server = subprocess.Popen(
            [ADALINE, "serve", "--listen", address, "--auth-tokens", tokens,
             "--max-request-memory", str(32 << 20)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            reader = adaline.Client(address, token="reader-token-0123456789")
            reader.stats()
            baseline_kb = peak_kb(server.pid)
            # 60 MiB each: eight keys of 7-8 bytes apiece.
            request = adaline_pb2.PullRequest(keys=range(1 << 23))
            codes = []

            def flood():
                channel = grpc.insecure_channel(
                    address, [("grpc.max_send_message_length", 1 << 30)])
                try:
                    adaline_pb2_grpc.ParameterServerStub(channel).Pull(
                        request, timeout=60)
                    codes.append("OK")
                except grpc.RpcError as error:
                    codes.append(error.code().name)

            threads = [threading.Thread(target=flood) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            # Each is refused, or its connection closed when gRPC's quota
            # reclaims memory from the largest one.
            self.assertEqual(len(codes), 8)
            for code in codes:
                self.assertIn(code, ("RESOURCE_EXHAUSTED", "UNAVAILABLE"))
            # Eight requests buffered whole would take 480 MiB, and twice that
            # parsed. The quota is enforced as buffers fill, not before: on a
            # 2-core machine the shard grew 60-105 MiB, and 190 MiB when a
            # connection was closed (32 runs).
            # (AddressSanitizer's own memory makes RSS meaningless there.)
            if "ASAN_OPTIONS" not in os.environ:
                self.assertLess(peak_kb(server.pid) - baseline_kb, 256 << 10)
            self.assertEqual(reader.stats()[0].step, 0)  # serving on
        finally:
            server.terminate()
            server.wait()


class ReadModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        cls.data = os.path.join(cls.dir, "train.vw")
        run("generate", "--rows", "3000", "--seed", "31", "--out", cls.data)
        cls.path = os.path.join(cls.dir, "named.model")
        run("train", "--data", cls.data, "--keep-names", "--model-out",
            cls.path)

    def test_weights_and_names_are_what_inspect_shows(self):
        model = adaline.read_model(self.path)
        self.assertEqual(model.config["loss"], "logistic")
        self.assertEqual(model.config["optimizer"], "adagrad")
        self.assertEqual(model.state_names, ["accumulator", "scale"])
        self.assertEqual(model.states.shape, (len(model.keys), 2))
        self.assertEqual(len(model.keys), len(set(model.keys.tolist())))
        shown = run("inspect", "--model", self.path, "--feature",
                    "movie^is_director_nolan").stdout.split()
        self.assertEqual(shown[0], "movie^is_director_nolan")
        self.assertAlmostEqual(model.weight("movie^is_director_nolan"),
                               float(shown[2]), places=5)
        key = [k for k, n in model.names.items()
               if n == "movie^is_director_nolan"][0]
        index = np.nonzero(model.keys == np.uint64(key))[0][0]
        # The file holds the step of the last update; inspect shows the
        # entry caught up to the model's step, which AdaGrad leaves as is.
        self.assertGreater(model.last_steps[index], 0)
        self.assertLessEqual(model.last_steps[index], model.step)
        self.assertEqual(int(shown[-1]), model.step)
        with self.assertRaisesRegex(KeyError, "no such name"):
            model.weight("movie^no_such_thing")

    def test_a_damaged_file_is_refused(self):
        with open(self.path, "rb") as file:
            data = bytearray(file.read())
        data[len(data) // 2] ^= 0x40
        damaged = os.path.join(self.dir, "damaged.model")
        with open(damaged, "wb") as file:
            file.write(data)
        with self.assertRaisesRegex(adaline.ModelFileError, "checksum"):
            adaline.read_model(damaged)
        with open(damaged, "wb") as file:
            file.write(b"not a model at all")
        with self.assertRaisesRegex(adaline.ModelFileError,
                                    "not an adaline model file"):
            adaline.read_model(damaged)

    def test_a_weights_only_file_has_no_state(self):
        weights_only = os.path.join(self.dir, "weights.model")
        run("train", "--data", self.data, "--weights-out", weights_only)
        model = adaline.read_model(weights_only)
        self.assertTrue(model.config["weights_only"])
        self.assertEqual(model.states.shape, (len(model.keys), 0))
        self.assertTrue(np.all(model.weights != 0))


if __name__ == "__main__":
    unittest.main()
