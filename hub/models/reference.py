"""DUO reference data: school locations, pupil counts per 1 October, samenwerkingsverbanden, imports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import Base


class Gemeente(Base):
    """A municipality as DUO names it (the name of the latest file that carried it)."""

    __tablename__ = "gemeenten"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    naam: Mapped[str] = mapped_column(String(120))


class Vestiging(Base):
    """A school location (BRIN + 2 digits). Fields a file does not carry are left as they were."""

    __tablename__ = "vestigingen"

    vestigingscode: Mapped[str] = mapped_column(String(6), primary_key=True)
    instellingscode: Mapped[str] = mapped_column(String(4), index=True)
    naam: Mapped[str | None] = mapped_column(String(200))
    #: School type: BO, SBO, SO, VSO, SO/VSO (DUO's own value for combined schools) or VO.
    soort: Mapped[str | None] = mapped_column(String(8), index=True)
    #: The layout that set ``soort`` (an explicit SOORT_VESTIGING outranks an implied one).
    soort_bron: Mapped[str | None] = mapped_column(String(40))
    #: VO detail: the programmes seen at the location, e.g. "HAVO, VMBO, VWO".
    onderwijstypen: Mapped[str | None] = mapped_column(String(120))
    #: The highest-ranked layout that set the descriptive fields below (see DETAIL_RANK).
    details_bron: Mapped[str | None] = mapped_column(String(40))
    bevoegd_gezag_nummer: Mapped[str | None] = mapped_column(String(10))
    bevoegd_gezag_naam: Mapped[str | None] = mapped_column(String(200))
    gemeentecode: Mapped[str | None] = mapped_column(String(4), index=True)
    gemeentenaam: Mapped[str | None] = mapped_column(String(120))
    plaatsnaam: Mapped[str | None] = mapped_column(String(120))
    adres: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(10))
    denominatie: Mapped[str | None] = mapped_column(String(80))
    #: The SWV of the location's own sector (PO for BO/SBO/SO, VO for VO/VSO); see SwvMembership.
    swv_code: Mapped[str | None] = mapped_column(String(6), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())

    def __repr__(self) -> str:
        return f"<Vestiging {self.vestigingscode} {self.soort} {self.gemeentecode}>"


class PupilCount(Base):
    """DUO pupil count of a location on 1 October of ``jaar`` (jaar 2024 ↔ schooljaar 2024-2025).

    ``masked``: DUO published ``<5``. With ``leerlingen`` NULL the count is wholly masked; with a
    number (VO files, summed over programmes) it is a lower bound because some parts were masked.
    """

    __tablename__ = "pupil_counts"

    vestigingscode: Mapped[str] = mapped_column(ForeignKey("vestigingen.vestigingscode"), primary_key=True)
    jaar: Mapped[int] = mapped_column(Integer, primary_key=True)
    leerlingen: Mapped[int | None] = mapped_column(Integer)
    masked: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(40))


class Samenwerkingsverband(Base):
    """A samenwerkingsverband passend onderwijs; code normalised like ``PO2701``."""

    __tablename__ = "samenwerkingsverbanden"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    naam: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(2))  # PO | VO


class SwvMembership(Base):
    """Which SWV a location belongs to, per sector (an SO/VSO school can be in a PO and a VO SWV).

    No foreign key to ``vestigingen``: the membership file may be imported before the registry.
    """

    __tablename__ = "swv_memberships"

    vestigingscode: Mapped[str] = mapped_column(String(6), primary_key=True)
    sector: Mapped[str] = mapped_column(String(2), primary_key=True)
    swv_code: Mapped[str] = mapped_column(ForeignKey("samenwerkingsverbanden.code"), index=True)


class ReferenceImport(Base):
    """One imported file: what it was, and how every row was accounted for."""

    __tablename__ = "reference_imports"
    __table_args__ = (UniqueConstraint("sha256", "context"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bestandsnaam: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: What besides the bytes decided the content's meaning, e.g. ``jaar=2024`` taken from the file
    #: name of a VO pupil file: the same bytes for another year are another import.
    context: Mapped[str] = mapped_column(String(40), default="")
    kind: Mapped[str] = mapped_column(String(40))
    encoding: Mapped[str] = mapped_column(String(20))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_used: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    rows_excluded: Mapped[int] = mapped_column(Integer)
    #: ImportReport.to_dict() of this import (first rejects, changes made).
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
