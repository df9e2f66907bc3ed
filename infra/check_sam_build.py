"""Checks what `sam build` produced, as Lambda will take it.

For every AWS::Serverless::Function of template.yaml, the built template
(.aws-sam/build/template.yaml) must point at a folder whose `bootstrap` is:
  - an executable ELF64 for the expected architecture (argument 1: x86_64 or arm64; default: this
    machine's), since provided.al2023 runs `bootstrap` and nothing else;
  - the function's own binary: byte for byte the `target/lambda/<Binary>/bootstrap` that
    cargo-lambda built for the binary the template names in BuildProperties.Binary (so no
    function ships another's binary);
  - well inside Lambda's limits once zipped as `sam deploy` zips it: 50 MB zipped for a direct
    upload (sam uploads through S3, whose limit is higher, but staying under it keeps every path
    open) and 250 MB unzipped;
  - within the project's own budget: at most 10,000,000 bytes (README "Function binaries"). What
    a function links is cold-start time (Lambda downloads and maps it); a dependency that brings
    back a second TLS stack or the SDK's config crates fails here, not in production.
Prints one row per function; exits 1 on the first kind of failure it finds (after printing all).

Run with the repository's venv (it has PyYAML): .venv/bin/python infra/check_sam_build.py x86_64
"""
import io
import os
import pathlib
import platform
import sys
import zipfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam" / "build"
ZIPPED_LIMIT = 50 * 1000 * 1000
UNZIPPED_LIMIT = 250 * 1000 * 1000
BUDGET = 10_000_000
# ELF e_machine values.
MACHINES = {"x86_64": 0x3E, "arm64": 0xB7}


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form intrinsics (!Ref, !Sub, ...) as plain values."""


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


CfnLoader.add_multi_constructor("!", _any_tag)


def functions(template_path):
    resources = yaml.load(template_path.read_text(), Loader=CfnLoader)["Resources"]
    return {name: r for name, r in resources.items() if r.get("Type") == "AWS::Serverless::Function"}


def elf_machine(data):
    # ELF magic, 64-bit class (2), little-endian (1); e_machine is the u16 at offset 18.
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    return int.from_bytes(data[18:20], "little")


def zipped_size(data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, data, zipfile.ZIP_DEFLATED)
    return len(buffer.getvalue())


def main():
    arch = sys.argv[1] if len(sys.argv) > 1 else ("arm64" if platform.machine() == "aarch64" else "x86_64")
    want_machine = MACHINES[arch]
    source = functions(ROOT / "template.yaml")
    built_template = BUILD / "template.yaml"
    if not built_template.is_file():
        sys.exit(f"check-sam-build: {built_template} is missing: run sam build first")
    built = functions(built_template)
    failures = []
    print(f"| function | binary | {arch} ELF | bootstrap bytes | zipped bytes |")
    print("|---|---|---|---:|---:|")
    for name, resource in sorted(source.items()):
        binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        if not binary:
            failures.append(f"{name}: template.yaml names no BuildProperties.Binary")
            continue
        if name not in built:
            failures.append(f"{name}: not in {built_template}")
            continue
        code_uri = built[name]["Properties"].get("CodeUri")
        bootstrap = BUILD / str(code_uri) / "bootstrap"
        if not bootstrap.is_file():
            failures.append(f"{name}: {bootstrap} is missing")
            continue
        data = bootstrap.read_bytes()
        machine = elf_machine(data)
        own = ROOT / "target" / "lambda" / binary / "bootstrap"
        zipped = zipped_size(data)
        print(f"| {name} | {binary} | {'yes' if machine == want_machine else 'NO'} | {len(data)} | {zipped} |")
        if not os.access(bootstrap, os.X_OK):
            failures.append(f"{name}: {bootstrap} is not executable")
        if machine != want_machine:
            failures.append(f"{name}: bootstrap is not an ELF64 for {arch} (e_machine {machine})")
        if not own.is_file() or own.read_bytes() != data:
            failures.append(f"{name}: bootstrap is not the {binary} binary cargo-lambda built ({own})")
        if zipped >= ZIPPED_LIMIT:
            failures.append(f"{name}: {zipped} bytes zipped, over Lambda's {ZIPPED_LIMIT}")
        if len(data) >= UNZIPPED_LIMIT:
            failures.append(f"{name}: {len(data)} bytes unzipped, over Lambda's {UNZIPPED_LIMIT}")
        if len(data) > BUDGET:
            failures.append(f"{name}: {len(data)} bytes, over the project's budget of {BUDGET}")
    extra = sorted(set(built) - set(source))
    if extra:
        failures.append(f"built template has functions template.yaml does not: {', '.join(extra)}")
    if failures:
        print("\n".join(["check-sam-build: FAILED"] + failures), file=sys.stderr)
        sys.exit(1)
    print(
        f"check-sam-build: {len(source)} functions, each its own {arch} bootstrap of at most {BUDGET} bytes,"
        f" zipped under {ZIPPED_LIMIT} bytes"
    )


if __name__ == "__main__":
    main()
