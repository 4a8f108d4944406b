"""Every shell example of README.md and of every command's help (kmscli(1)'s EXAMPLES) runs as
written.

The examples are read from the texts themselves (README.md's ```sh blocks, the `Example:` block
of each command's help, which kmscli(1) prints too), never copied here, and run with
`bash -e -o pipefail` in a sandbox: a temporary HOME, XDG directories and KMSCLI_HOME, and a PATH
whose `kmscli` is this tree's. They run in a private network namespace when the system allows it,
so that `kmscli serve --port N &` in an example gets its port.

Conventions:
- The examples work on the user's own files (`backup.tar`, `*.log`, `token.txt`...): the sandbox
  starts with small files of those names (`_USER_FILES`), nothing made by kmscli.
- README.md's blocks run in order, one script per document, so each may use what an earlier one
  made (`$KEY`, `alias/backups`). The blocks of its "AWS KMS backend" section run in a script of
  their own against moto, with the AWS profile `prod` they name pointing there through the
  documented variable `AWS_ENDPOINT_URL_KMS`.
- A help example stands alone, so it may use the placeholders kmscli(1)'s EXAMPLES defines
  (`$KEY`, `$NEWKEY`, `$MRK`, `$RSA_KEY`, `$ALICE`, `$GRANT`, `$TOKEN`, `alias/backups`,
  `alias/release`, `alias/tokens`, `alias/agree`): each command's example runs in a fresh copy of
  a keyring that `_PLACEHOLDERS` made that way.
- A README block that cannot run here (it installs software, or needs a program that is not
  installed) follows a line `<!-- not run: REASON -->`; such blocks stay few (`MAX_NOT_RUN`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import isolated_environment

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NOT_RUN = re.compile(r"^<!-- not run: (?P<reason>\S.*\S) -->$")
MAX_NOT_RUN = 6
AWS_SECTION = "## AWS KMS backend"


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence
    section: str  # the "## " heading it is under
    text: str
    not_run: str | None


def readme_blocks(text: str | None = None) -> list[Block]:
    lines = (README.read_text() if text is None else text).splitlines()
    blocks: list[Block] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line
        if line.strip() == "```sh":
            start = i
            body: list[str] = []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            before = next((x for x in reversed(lines[:start]) if x.strip()), "")
            marker = NOT_RUN.match(before.strip())
            blocks.append(
                Block(start + 1, section, "\n".join(body), marker["reason"] if marker else None)
            )
        i += 1
    return blocks


def help_examples() -> list[tuple[str, str]]:
    from tools import docgen

    tree = docgen.read_tree()
    return [(c.name, "\n".join(c.help.example)) for c in tree.commands if c.help.example]


# The user's own files that the examples name.
_USER_FILES = r"""
mkdir -p photos logs dir
printf 'a photo\n' > photos/1.jpg
printf 'data %s\n' 1 2 3 > backup.tar
cp backup.tar big.tar; cp backup.tar release.tar
printf 'log one\n' > app.log; printf 'log two\n' > db.log
printf 'log one\n' > logs/app.log; printf 'log two\n' > logs/db.log
printf 'notes\n' > notes.txt; printf 'a token\n' > token.txt; printf 'f\n' > f
printf 'a secret\n' > secret.txt; printf 'in a dir\n' > dir/x
"""

# What kmscli(1)'s EXAMPLES say the placeholders of the help examples are.
_PLACEHOLDERS = r"""
kmscli -q keyring init --account-id 111122223333
KEY=$(kmscli key create --description backups --alias alias/backups)
NEWKEY=$(kmscli key create --alias alias/backups-2027)
MRK=$(kmscli key create --multi-region)
RSA_KEY=$(kmscli key create --key-spec RSA_2048 --key-usage ENCRYPT_DECRYPT)
kmscli key create --key-spec RSA_2048 --key-usage SIGN_VERIFY --alias alias/release >/dev/null
kmscli key create --key-spec HMAC_256 --key-usage GENERATE_VERIFY_MAC --alias alias/tokens \
    >/dev/null
kmscli key create --key-spec ECC_NIST_P256 --key-usage KEY_AGREEMENT --alias alias/agree \
    >/dev/null
ALICE=arn:aws:iam::111122223333:user/alice
grant() {
    kmscli policy grant create "$KEY" --grantee "$ALICE" --retiring "$ALICE" \
        --operations Decrypt --json | jq -r ".$1"
}
GRANT=$(grant GrantId)
TOKEN=$(grant GrantToken)
wrap() {  # $1: the directory of import parameters, $2: the wrapped material's file
    openssl pkeyutl -encrypt -pubin -keyform DER -inkey "$1/PublicKey.bin" \
        -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
        -pkeyopt rsa_mgf1_md:sha256 -in material.bin -out "$2"
}
openssl rand -out material.bin 32
IMPORTED=$(kmscli key create --origin EXTERNAL)
mkdir imported && kmscli key import-parameters "$IMPORTED" --out-dir imported/
wrap imported imported.bin
kmscli key import-material "$IMPORTED" --material imported.bin \
    --token imported/ImportToken.bin --no-expiry
rm -r imported imported.bin
EXTERNAL=$(kmscli key create --origin EXTERNAL)
mkdir params && kmscli key import-parameters "$EXTERNAL" --out-dir params/
wrap params wrapped.bin
kmscli encrypt -q -k alias/backups -c project=apollo -o notes.kms notes.txt
kmscli encrypt -q big.tar && rm big.tar
mkdir sealed && kmscli encrypt -q -k alias/backups -o sealed/ logs/*.log
kmscli encrypt -q --direct -k "$RSA_KEY" --encryption-algorithm RSAES_OAEP_SHA_256 secret.txt
rm secret.txt; printf '1234\n' > pin.txt
kmscli encrypt -q --direct -k alias/backups -c project=apollo -o secret.blob notes.txt
kmscli keyring backup nightly.kmsbak
kmscli policy get "$KEY" > policy.json
cat > alice.json <<'JSON'
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"}]}
JSON
cp alice.json app.json
kmscli policy identity put "$ALICE" use-backups alice.json
kmscli policy identity put arn:aws:iam::111122223333:role/App use-kms app.json
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out peer.pem 2>/dev/null
openssl pkey -in peer.pem -pubout -out peer.pub.pem
declare -p KEY NEWKEY MRK RSA_KEY ALICE GRANT TOKEN IMPORTED EXTERNAL |
    sed 's/^declare -- /export /' > ../vars.sh
"""


def _sandbox(base: Path) -> dict[str, str]:
    env = isolated_environment(base)
    # The examples run as a user would: the root key file where the keyring puts it.
    del env["KMSCLI_ROOT_KEY_FILE"]
    (base / "userhome").mkdir(parents=True, exist_ok=True)
    (base / "work").mkdir(exist_ok=True)
    return env


def _private_network() -> list[str]:
    """A command prefix that runs bash in a network namespace of its own, when allowed."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if unshare and ip:
        probe = subprocess.run(
            [unshare, "-n", ip, "link", "set", "lo", "up"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return [unshare, "-n", "sh", "-c", f'{ip} link set lo up && exec "$@"', "sh"]
    return []


@pytest.fixture(scope="module")
def private_network() -> list[str]:
    return _private_network()


# Programs the examples use besides kmscli (the README teaches them too).
_PROGRAMS = {
    "jq": "apt-get install jq",
    "openssl": "apt-get install openssl",
    "aws": "pip install awscli (the AWS CLI)",
}


def _require_programs() -> None:
    missing = [f"{name} ({hint})" for name, hint in _PROGRAMS.items() if not shutil.which(name)]
    if missing:
        pytest.fail(f"the examples need programs that are not installed: {', '.join(missing)}")


def run_script(
    script: str, env: dict[str, str], cwd: Path, prefix: list[str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    _require_programs()
    process = subprocess.Popen(
        [*prefix, "bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that a server an example started is stopped with it
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # Also when a server an example started (and never stopped) holds the pipes open.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        err += f"\n(test: timed out after {timeout} s)"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


# Run after the examples: AWS variables an example set must be exported, or the AWS CLI and the
# SDKs of the commands that follow never see them.
_EXPORTED = r"""
for variable in ${!AWS_*}; do
    [[ $(declare -p "$variable") == "declare -x "* ]] || {
        echo "test: $variable is set but not exported" >&2
        exit 1
    }
done
"""


def _script(blocks: list[Block]) -> str:
    parts = [_USER_FILES]
    for block in blocks:
        parts.append(f"echo '--- README.md line {block.line}' >&2\n{block.text}\n")
    return "\n".join([*parts, _EXPORTED])


def _failure(result: subprocess.CompletedProcess[str]) -> str:
    out, err = result.stdout[-3000:], result.stderr[-3000:]
    return f"exit {result.returncode}\nstdout:\n{out}\nstderr:\n{err}"


# -- README.md -----------------------------------------------------------------------------------


def test_blocks_not_run_are_few_and_say_why() -> None:
    skipped = [b for b in readme_blocks() if b.not_run is not None]
    assert len(skipped) <= MAX_NOT_RUN, [(b.line, b.not_run) for b in skipped]
    for block in skipped:
        assert len(block.not_run or "") >= 20, f"line {block.line}: say why it does not run"


def test_blocks_not_run_name_keys_by_the_arn_they_need() -> None:
    """aws-encryption-cli and sops take a key ARN (a bare key ID fails to decrypt): the blocks
    that cannot run here give them one that an earlier block, which runs, sets."""
    blocks = readme_blocks()
    for i, block in enumerate(blocks):
        for tool, needs in (("aws-encryption-cli", 'key="$ARN"'), ("sops encrypt", '--kms "$ARN"')):
            if tool not in block.text:
                continue
            assert needs in block.text, f"line {block.line}: {tool} without the key's ARN"
            earlier = [b.text for b in blocks[:i] if b.not_run is None]
            earlier += [block.text]
            assert any(
                re.search(
                    r"^ARN=\$\(kmscli key describe \S+ --json \| jq -r \.KeyMetadata\.Arn\)$",
                    text,
                    flags=re.MULTILINE,
                )
                for text in earlier
            ), f"line {block.line}: $ARN is never set to a key ARN"


def test_the_marker_is_read() -> None:
    text = "## A\n<!-- not run: needs a program not installed -->\n```sh\nfalse\n```\n"
    text += "```sh\ntrue\n```\n"
    blocks = readme_blocks(text)
    assert [(b.not_run, b.text) for b in blocks] == [
        ("needs a program not installed", "false"),
        (None, "true"),
    ]


@pytest.mark.slow
def test_readme_examples_run_as_written(tmp_path: Path, private_network: list[str]) -> None:
    blocks = [b for b in readme_blocks() if b.not_run is None and b.section != AWS_SECTION]
    assert len(blocks) > 5
    env = _sandbox(tmp_path)
    result = run_script(_script(blocks), env, tmp_path / "work", private_network)
    assert result.returncode == 0, _failure(result)


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from tests.aws.servers import MotoKms

    server = MotoKms()
    server.reset()  # moto's state is per process: other tests' keys and aliases would be there
    yield server.url
    server.reset()
    server.stop()


@pytest.mark.slow
def test_readme_aws_examples_run_against_moto(tmp_path: Path, moto_url: str) -> None:
    pytest.importorskip("boto3")
    blocks = [b for b in readme_blocks() if b.not_run is None and b.section == AWS_SECTION]
    assert blocks
    env = _sandbox(tmp_path)
    aws = tmp_path / "userhome" / ".aws"
    aws.mkdir()
    # The AWS profile the README names, with moto's test credentials.
    (aws / "config").write_text("[profile prod]\nregion = us-east-1\n")
    (aws / "credentials").write_text(
        "[prod]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    env.update({"AWS_ENDPOINT_URL_KMS": moto_url, "AWS_EC2_METADATA_DISABLED": "true"})
    result = run_script(_script(blocks), env, tmp_path / "work", [])
    assert result.returncode == 0, _failure(result)


# -- the help of every command, kmscli(1)'s EXAMPLES ---------------------------------------------


@pytest.fixture(scope="module")
def placeholders(tmp_path_factory: pytest.TempPathFactory, private_network: list[str]) -> Path:
    base = tmp_path_factory.mktemp("placeholders")
    env = _sandbox(base)
    result = run_script(_USER_FILES + _PLACEHOLDERS, env, base / "work", private_network)
    assert result.returncode == 0, _failure(result)
    return base


_EXAMPLES = help_examples()


@pytest.mark.slow
@pytest.mark.parametrize(("name", "example"), _EXAMPLES, ids=[n for n, _ in _EXAMPLES])
def test_help_example_runs_as_written(
    name: str, example: str, placeholders: Path, tmp_path: Path, private_network: list[str]
) -> None:
    base = tmp_path / "sandbox"
    shutil.copytree(placeholders, base, symlinks=True)
    env = _sandbox(base)
    script = f"source ../vars.sh\n{example}\n{_EXPORTED}"
    result = run_script(script, env, base / "work", private_network)
    assert result.returncode == 0, f"{name}:\n{example}\n" + _failure(result)
