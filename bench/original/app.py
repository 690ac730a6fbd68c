"""The service this project replaces, for side-by-side benchmarks: the original FastAPI
blueprint's `POST /predict` (a Pydantic request with `patient_data`, a fixed mock answer), run
the way its container ran it (uvicorn, one worker). `/healthz` is added only so that the
benchmark scripts can wait for it like the other servers.

    .venv/bin/pip install fastapi uvicorn
    .venv/bin/python -m uvicorn --app-dir bench/original app:app --port 8000
"""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="Healthcare Model Service")


class PredictionRequest(BaseModel):
    patient_data: dict


class PredictionResponse(BaseModel):
    prediction: str
    confidence: float
    model_version: str


@app.post("/predict", response_model=PredictionResponse)
def predict(request: PredictionRequest) -> PredictionResponse:
    # The original answered every patient with the same mock.
    return PredictionResponse(prediction="High Risk", confidence=0.92, model_version="1.0.0")


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}
