"""KServe's Python model server (PyPI `kserve`) serving the scikit-learn pipeline of
models/breast-cancer-lr (a joblib file) over the Open Inference Protocol: the way KServe's own
sklearn server wraps a model, a `kserve.Model` whose `predict` calls `predict_proba`.

    python kserve_server.py MODEL.joblib HTTP_PORT GRPC_PORT
"""

import sys

import joblib
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer


class Pipeline(Model):
    def __init__(self, name: str, path: str):
        super().__init__(name)
        self.pipeline = joblib.load(path)
        self.ready = True

    def predict(self, request: InferRequest, headers=None) -> InferResponse:
        probabilities = self.pipeline.predict_proba(request.inputs[0].as_numpy())
        output = InferOutput(name="predict_proba", shape=list(probabilities.shape), datatype="FP64")
        output.set_data_from_numpy(probabilities, binary_data=False)
        return InferResponse(response_id=request.id or "", model_name=self.name, infer_outputs=[output])


if __name__ == "__main__":
    ModelServer(http_port=int(sys.argv[2]), grpc_port=int(sys.argv[3]), workers=1,
                enable_latency_logging=False).start([Pipeline("breast-cancer-lr", sys.argv[1])])
