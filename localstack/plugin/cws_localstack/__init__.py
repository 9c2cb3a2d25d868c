"""LocalStack plugins of cws, put on LocalStack's PYTHONPATH by cws.

- CwsRuntimeExecutorPlugin ("cws", chosen by LAMBDA_RUNTIME_EXECUTOR=cws):
  runs a function's bootstrap without Docker. Each execution environment is a
  `cws localstack lambda-env` process (CWS_LAMBDA_ENV_BIN), which serves
  LocalStack's invoke endpoint and runs the bootstrap under a Lambda Runtime
  API of its own (package localstack/lambdaenv).
- CwsCatalogPlugin: the catalog CloudFormation asks which resource types it
  can create. Offline, LocalStack's own catalog answers "unsupported" for every
  type; this one answers "available" for the types with an installed resource
  provider, so that CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0 refuses only those
  LocalStack cannot create.
"""

import logging
import os
import subprocess
import threading

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)
from localstack.utils.catalog.catalog import CatalogPlugin
from localstack.utils.catalog.common import (
    CloudFormationResourcesSupportAtRuntime,
    CloudFormationResourcesSupportInLatest,
)
from localstack.utils.net import get_free_tcp_port

LOG = logging.getLogger(__name__)

ENV_BIN = "CWS_LAMBDA_ENV_BIN"


class CwsRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id, function_version):
        super().__init__(id=id, function_version=function_version)
        self.port = get_free_tcp_port()
        self.executor_endpoint = ExecutorEndpoint(self.id, container_address="127.0.0.1", container_port=self.port)
        self.process = None
        self.logs = []
        self.reader = None

    def start(self, env_vars):
        self.executor_endpoint.start()
        code = self.function_version.config.code.get_unzipped_code_location()
        env = {k: str(v) for k, v in env_vars.items()}
        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        cmd = [os.environ[ENV_BIN], "localstack", "lambda-env", "--listen", f"127.0.0.1:{self.port}", "--code", str(code)]
        self.process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read_logs, daemon=True)
        self.reader.start()
        self.executor_endpoint.wait_for_startup()

    def _read_logs(self):
        for line in self.process.stdout:
            self.logs.append(line.decode(errors="replace"))

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        try:
            self.executor_endpoint.shutdown()
        except Exception as e:
            LOG.debug("stopping the executor endpoint of %s: %s", self.id, e)

    def get_address(self):
        return "127.0.0.1"

    def get_endpoint_from_executor(self):
        return "127.0.0.1"

    def get_runtime_endpoint(self):
        return f"http://127.0.0.1:{config.GATEWAY_LISTEN[0].port}{self.executor_endpoint.get_endpoint_prefix()}"

    def invoke(self, payload):
        return self.executor_endpoint.invoke(payload)

    def get_logs(self):
        return "".join(self.logs)

    @classmethod
    def prepare_version(cls, function_version):
        runtime = function_version.config.runtime or ""
        if not runtime.startswith("provided"):
            raise LambdaRuntimeException(
                f"the cws executor runs custom runtimes (provided.al2023, provided.al2), not {runtime or 'container images'}"
            )
        code = function_version.config.code
        if code:
            code.prepare_for_execution()
            bootstrap = os.path.join(str(code.get_unzipped_code_location()), "bootstrap")
            if not os.path.isfile(bootstrap):
                raise LambdaRuntimeException(f"the function's code has no bootstrap executable at its root ({bootstrap})")

    @classmethod
    def cleanup_version(cls, function_version):
        pass

    @classmethod
    def validate_environment(cls):
        binary = os.environ.get(ENV_BIN, "")
        if not os.access(binary, os.X_OK):
            LOG.warning("%s (%r) is not an executable: Lambda functions cannot run", ENV_BIN, binary)
            return False
        return True


class CwsRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "cws"

    def load(self, *args, **kwargs):
        return CwsRuntimeExecutor


class CwsCatalogPlugin(CatalogPlugin):
    name = "aws-catalog-runtime-only-with-license"

    def __init__(self):
        self.available = self._get_cfn_resources_available_at_runtime()

    def get_aws_service_status(self, service_name, operation_name=None):
        return None

    def get_cloudformation_resource_status(self, resource_name, service_name, is_pro_resource=False):
        if resource_name in self.available:
            return CloudFormationResourcesSupportAtRuntime.AVAILABLE
        return CloudFormationResourcesSupportInLatest.NOT_SUPPORTED
