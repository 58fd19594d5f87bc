"""INCEpTION / WebAnno: UIMA CAS XMI (a folder, or the zip INCEpTION hands out), and the project export.

A document's labels are the one ``webanno.custom.PostLabels`` annotation (a span over the text
as perivigil's batch type system has it, or a document-metadata layer). A CAS without that
type is refused naming the file and the type. INCEpTION's project export holds each user's
work as ``annotation/<document>/<user>.zip`` (XMI): one annotator per user. WebAnno TSV never
holds document-level labels (INCEpTION exports document metadata only in the UIMA CAS
formats): it is refused, as is a project export without XMI annotations.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from perivigil.annotation.exports import POST_TYPE
from perivigil.annotation.imports.common import Context, check_text, post_labels
from perivigil.errors import InputError

EXPORT_XMI = "export the documents as 'UIMA CAS XMI (XML 1.0)' with perivigil's PostLabels layer"


def read_inception(folder: Path, ctx: Context, user: str | None = None) -> list[dict[str, str]]:
    from cassis import load_cas_from_xmi, load_typesystem

    who = ctx.who(user) if user else None
    typesystem_path = folder / "TypeSystem.xml"
    if not typesystem_path.exists():
        raise InputError(f"{ctx.shown(folder)}: TypeSystem.xml is missing (export UIMA CAS XMI with its type system)")
    try:
        with typesystem_path.open("rb") as handle:
            typesystem = load_typesystem(handle)
    except Exception as exc:  # lxml and cassis raise many types for a broken file
        raise InputError(
            f"{ctx.shown(typesystem_path)}: not a readable UIMA type system ({type(exc).__name__})"
        ) from None
    rows = []
    for xmi in sorted(folder.glob("*.xmi")):
        shown = ctx.shown(xmi)
        if not typesystem.contains_type(POST_TYPE):
            raise InputError(
                f"{shown}: type '{POST_TYPE}' is not in TypeSystem.xml: no post-level labels in this CAS ({EXPORT_XMI})"
            )
        try:
            with xmi.open("rb") as handle:
                cas = load_cas_from_xmi(handle, typesystem=typesystem)
        except Exception as exc:  # lxml and cassis raise many types for a broken file
            raise InputError(f"{shown}: not a readable UIMA CAS XMI file ({type(exc).__name__})") from None
        annotations = list(cas.select(POST_TYPE))
        if len(annotations) != 1:
            raise InputError(f"{shown}: expected one {POST_TYPE} annotation, found {len(annotations)}")
        post = annotations[0]
        post_id = str(post.get("post_id") or xmi.stem)
        if post_id in ctx.texts:
            check_text(ctx, post_id, cas.sofa_string, None, shown)
        values = {name: post.get(name) for name in ctx.scheme.names}
        rows.extend(post_labels(ctx, post_id, values, shown, xmi, annotator=who))
    return rows


def read_inception_zip(path: Path, ctx: Context, user: str | None = None) -> list[dict[str, str]]:
    """One document as INCEpTION exports it: a zip of ``<document>.xmi`` and ``TypeSystem.xml``."""
    with tempfile.TemporaryDirectory(prefix="perivigil-xmi-") as tmp:
        _unzip(path, Path(tmp), ctx)
        ctx.aliases[Path(tmp).as_posix()] = ctx.shown(path)
        try:
            folders = sorted({p.parent for p in Path(tmp).rglob("*.xmi")})
            return [row for folder in folders for row in read_inception(folder, ctx, user)]
        finally:
            del ctx.aliases[Path(tmp).as_posix()]


def read_inception_project(path: Path, ctx: Context) -> list[dict[str, str]]:
    """INCEpTION's project export: ``annotation/<document>/<user>.zip`` (XMI), one annotator per user."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    members = sorted(n for n in names if n.startswith("annotation/") and n.count("/") == 2 and n.endswith(".zip"))
    if not members:
        found = sorted({Path(n).suffix for n in names if n.startswith("annotation/") and not n.endswith("/")})
        what = f"annotations in {found}" if found else "annotations only in Java-serialised .ser files"
        raise InputError(
            f"{path}: an INCEpTION project export with {what}, not UIMA CAS XMI: export the project "
            "with the secondary format 'UIMA CAS XMI (XML 1.0)', or export each document as XMI"
        )
    rows = []
    with tempfile.TemporaryDirectory(prefix="perivigil-project-") as tmp:
        _unzip(path, Path(tmp), ctx)
        ctx.aliases[Path(tmp).as_posix()] = ctx.shown(path)
        try:
            for member in members:
                rows.extend(read_inception_zip(Path(tmp) / member, ctx, user=Path(member).stem))
        finally:
            del ctx.aliases[Path(tmp).as_posix()]
    ctx.add(
        "curated documents set aside (not an annotator's)",
        sum(n.startswith("curation/") and not n.endswith("/") for n in names),
        file=path,
    )
    return rows


def _unzip(path: Path, target: Path, ctx: Context) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.startswith("/") or ".." in Path(member).parts:
                    raise InputError(f"{ctx.shown(path)}: member {member!r} points outside the archive")
            archive.extractall(target)
    except zipfile.BadZipFile:
        raise InputError(f"{ctx.shown(path)}: not a readable zip archive (truncated download?)") from None


def refuse_webanno_tsv(path: Path, ctx: Context) -> list[dict[str, str]]:
    raise InputError(
        f"{ctx.shown(path)}, line 1: WebAnno TSV 3.x holds no document-level labels (INCEpTION exports "
        f"document metadata only in UIMA CAS formats): {EXPORT_XMI}"
    )
