"""What the suites share, so that each thing is done one way:

- `paths`: the repository and the artifacts scripts/build.sh builds (tests never build them);
- `ports`: free loopback ports;
- `processes`: a child process with its output in a log file, waited for until it serves (or
  failing with its log's last lines), and stopped cleanly;
- `service`: the application on loopback (`wasmtime serve`, scripts/serve_local.py, and the
  `app_url` / `api_url` fixtures, which pick Spin when it is installed);
- `spin`: the Spin CLI (`spin up` of a manifest or a registry reference);
- `exporter`: the model-exporter binary, run on free ports, and its /metrics;
- `prometheus`: a real Prometheus on loopback scraping one target;
- `markdown`: sections and code blocks of the documents whose commands the tests run.
"""
