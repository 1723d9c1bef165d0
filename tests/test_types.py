"""The pure core (src/xinye/algorithms) type-checks with mypy under the project's [tool.mypy] settings
(pyproject.toml): `make test` fails on a type error there."""

from pathlib import Path

from mypy import api as mypy_api

ROOT = Path(__file__).resolve().parent.parent


def test_algorithms_type_check():
    stdout, stderr, status = mypy_api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / "var" / "mypy_cache"),
            str(ROOT / "src" / "xinye" / "algorithms"),
        ]
    )
    assert status == 0, f"mypy found errors in src/xinye/algorithms:\n{stdout}{stderr}"
