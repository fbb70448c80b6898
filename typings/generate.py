"""Regenerate the mypy stubs of the Fabric protos (fabric_protos has no .pyi files).

Run with mypy-protobuf installed: ``python typings/generate.py``. The stubs are built from
the descriptors compiled into the installed package, so they match its exact version.
"""

import importlib
import pkgutil
import sys
from pathlib import Path

import fabric_protos
from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from mypy_protobuf import main as mypy_protobuf

PREFIX = "fabric_protos/"


def _renamed(name: str) -> str:
    return name if name.startswith("google/") else PREFIX + name


def _request() -> plugin_pb2.CodeGeneratorRequest:
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    for info in pkgutil.walk_packages(fabric_protos.__path__, "fabric_protos."):
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(info.name)
        pending = [module.DESCRIPTOR]
        while pending:
            fd = pending.pop()
            if fd.name in files:
                continue
            proto = descriptor_pb2.FileDescriptorProto()
            fd.CopyToProto(proto)
            files[fd.name] = proto
            pending.extend(fd.dependencies)
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for dep in files[name].dependency:
            visit(dep)
        ordered.append(name)

    for name in sorted(files):
        visit(name)
    request = plugin_pb2.CodeGeneratorRequest()
    request.parameter = "quiet"
    for name in ordered:
        proto = request.proto_file.add()
        proto.CopyFrom(files[name])
        proto.name = _renamed(name)
        proto.dependency[:] = [_renamed(dep) for dep in files[name].dependency]
        if not name.startswith("google/"):
            request.file_to_generate.append(proto.name)
    return request


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent
    request = _request()
    response = plugin_pb2.CodeGeneratorResponse()
    descriptors = mypy_protobuf.Descriptors(request)
    mypy_protobuf.generate_mypy_stubs(descriptors, response, True, False, False)
    mypy_protobuf.generate_mypy_grpc_stubs(descriptors, response, True, False, False)
    for file in response.file:
        path = out / file.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.content)
    root = out / "fabric_protos"
    for stub in root.glob("**/*_pb2*.pyi"):
        for package in stub.relative_to(out).parents[:-1]:
            (out / package / "__init__.pyi").touch()
    print(f"wrote {len(response.file)} stubs under {out}")


if __name__ == "__main__":
    main()
