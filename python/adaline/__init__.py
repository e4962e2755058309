"""adaline from Python: a client for running parameter servers (query,
pull, predict, stats, checkpoint) and a reader of model files.

    import adaline
    client = adaline.Client("127.0.0.1:7070,127.0.0.1:7071")
    print(client.query(["movie^is_director_nolan"]))
    model = adaline.read_model("model")
"""

from adaline.client import AdalineError, Client
from adaline.model_file import Model, ModelFileError, read_model

__all__ = ["AdalineError", "Client", "Model", "ModelFileError", "read_model"]
