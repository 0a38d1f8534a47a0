"""Matching a batch of import rows to the school's pupils or carers, counting what changes, and writing it.

With `write=False` the same code only counts (the check job and the preview); with `write=True` it writes,
inside the import's transaction. What is kept between batches is small: ids and keys, never model objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from schoolgate.pupils import imports
from schoolgate.pupils.models import Carer, CarerLink, Pupil
from schoolgate.schools.models import School

PUPIL_DATA_FIELDS = [spec.name for spec in imports.PUPIL_FIELDS if spec.name != "upn"]
BATCH = 500


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    left: int = 0
    missing: int = 0
    links: int = 0

    def as_fields(self) -> dict:
        return {
            "created_count": self.created,
            "updated_count": self.updated,
            "unchanged_count": self.unchanged,
            "left_count": self.left,
            "missing_count": self.missing,
            "links_count": self.links,
        }


def _blank(spec_name: str):
    return None if spec_name in {"date_of_birth", "leaving_date"} else ""


class PupilWriter:
    """Match rows to pupils by UPN; only the file's mapped columns change, nothing is deleted."""

    def __init__(self, school: School, mapping: dict[str, str], *, write: bool):
        self.school, self.write = school, write
        self.fields = [name for name in PUPIL_DATA_FIELDS if name in mapping]
        # UPN -> (pk, on roll): small, whatever the size of the file.
        self.existing = {
            upn.upper(): (pk, leaving is None)
            for pk, upn, leaving in Pupil.objects.filter(school=school).values_list("pk", "upn", "leaving_date")
        }
        self.in_file: set[str] = set()
        self.counts = Counts()

    def add(self, rows: list[dict]) -> list[tuple[str, list[str]]]:
        """What happens to each row ("new", "updated" with the fields, "unchanged"), written when `write`."""
        known = {
            pupil.pk: pupil
            for pupil in Pupil.objects.filter(
                pk__in=[self.existing[r["upn"]][0] for r in rows if r["upn"] in self.existing]
            )
        }
        created, updated, update_fields, outcomes = [], [], set(), []
        for row in rows:
            self.in_file.add(row["upn"])
            values = {name: row.get(name) or _blank(name) for name in self.fields}
            match = self.existing.get(row["upn"])
            if match is None:
                created.append(Pupil(school=self.school, upn=row["upn"], **values))
                self.counts.created += 1
                self.counts.left += bool(values.get("leaving_date"))
                outcomes.append(("new", []))
                continue
            pupil = known[match[0]]
            changed = [name for name, value in values.items() if getattr(pupil, name) != value]
            if pupil.upn != row["upn"]:
                changed.append("upn")  # matched regardless of case; stored as the file has it
            if "leaving_date" in changed and values["leaving_date"] and pupil.leaving_date is None:
                self.counts.left += 1
            if not changed:
                self.counts.unchanged += 1
                outcomes.append(("unchanged", []))
                continue
            pupil.upn = row["upn"]
            for name in self.fields:
                setattr(pupil, name, values[name])
            updated.append(pupil)
            update_fields.update(changed)
            self.counts.updated += 1
            outcomes.append(("updated", changed))
        if self.write:
            Pupil.objects.bulk_create(created, batch_size=BATCH)
            if updated:
                Pupil.objects.bulk_update(updated, sorted(update_fields), batch_size=BATCH)
            for pupil in created:
                self.existing[pupil.upn.upper()] = (pupil.pk, pupil.leaving_date is None)
        return outcomes

    def finish(self, *, mark_missing_as_left: bool) -> Counts:
        missing = [pk for upn, (pk, on_roll) in self.existing.items() if on_roll and upn not in self.in_file]
        self.counts.missing = len(missing)
        if mark_missing_as_left:
            self.counts.left += len(missing)
            if self.write:
                today = timezone.localdate()
                for start in range(0, len(missing), BATCH):
                    Pupil.objects.filter(pk__in=missing[start : start + BATCH]).update(leaving_date=today)
        return self.counts


@dataclass
class _Carer:
    pk: int | None
    full_name: str
    email: str
    phone: str
    created_here: bool = False
    changed: set[str] = field(default_factory=set)


class ContactWriter:
    """Match contacts by name with email (or phone), and links by contact and pupil."""

    def __init__(self, school: School, mapping: dict[str, str], *, write: bool):
        self.school, self.write, self.mapping = school, write, mapping
        self.pupils = {upn.upper(): pk for pk, upn in Pupil.objects.filter(school=school).values_list("pk", "upn")}
        self.carers = {
            imports.contact_key(name, email, phone): _Carer(pk, name, email, phone)
            for pk, name, email, phone in Carer.objects.filter(school=school).values_list(
                "pk", "full_name", "email", "phone"
            )
        }
        self.links = {
            (carer_id, pupil_id): (pk, relationship, responsible)
            for pk, carer_id, pupil_id, relationship, responsible in CarerLink.objects.filter(
                carer__school=school
            ).values_list("pk", "carer_id", "pupil_id", "relationship", "parental_responsibility")
        }
        self.link_values = [name for name in ("relationship", "parental_responsibility") if name in mapping]
        self.updated_carers: set[int] = set()
        self.counts = Counts()

    def add(self, rows: list[dict]) -> list[tuple[str, list[str]]]:
        new_carers: dict[int, _Carer] = {}
        changed_carers: dict[int, _Carer] = {}
        new_links: list[tuple[_Carer, int, dict]] = []
        changed_links: dict[int, dict] = {}
        outcomes = []
        for row in rows:
            name, email, phone = row["name"], row.get("email") or "", row.get("phone") or ""
            key = imports.contact_key(name, email, phone)
            carer = self.carers.get(key)
            carer_changed: list[str] = []
            if carer is None:
                carer = self.carers[key] = _Carer(None, name, email, phone, created_here=True)
                new_carers[id(carer)] = carer
                self.counts.created += 1
            else:
                details = {"full_name": name, "email": email, **({"phone": phone} if "phone" in self.mapping else {})}
                carer_changed = [attr for attr, value in details.items() if getattr(carer, attr) != value]
                for attr in carer_changed:
                    setattr(carer, attr, details[attr])
                if carer_changed and carer.pk is not None:
                    carer.changed.update(carer_changed)
                    changed_carers[id(carer)] = carer
                    if not carer.created_here and id(carer) not in self.updated_carers:
                        self.updated_carers.add(id(carer))
                        self.counts.updated += 1
            values = {
                attr: row.get(attr) if attr == "relationship" else bool(row.get(attr)) for attr in self.link_values
            }
            pupil_id = self.pupils[row["pupil_upn"]]
            link = self.links.get((carer.pk, pupil_id)) if carer.pk else None
            if link is None:
                new_links.append((carer, pupil_id, values))
                self.counts.links += 1
                outcomes.append(("new", []))
                continue
            link_pk, relationship, responsible = link
            current = {"relationship": relationship, "parental_responsibility": responsible}
            link_changed = [attr for attr, value in values.items() if current[attr] != value]
            if link_changed:
                self.links[(carer.pk, pupil_id)] = (link_pk, *({**current, **values}.values()))
                changed_links[link_pk] = values
                self.counts.updated += 1
                outcomes.append(("updated", carer_changed + link_changed))
            elif id(carer) not in self.updated_carers:
                self.counts.unchanged += 1
                outcomes.append(("unchanged", []))
            else:
                outcomes.append(("updated", carer_changed))
        if self.write:
            self._write(new_carers, changed_carers, new_links, changed_links)
        return outcomes

    def _write(self, new_carers, changed_carers, new_links, changed_links) -> None:
        # Carers first: bulk_create sets their primary keys, which the new links need.
        states = list(new_carers.values())
        made = Carer.objects.bulk_create(
            [Carer(school=self.school, full_name=c.full_name, email=c.email, phone=c.phone) for c in states],
            batch_size=BATCH,
        )
        for state, carer in zip(states, made, strict=True):
            state.pk = carer.pk
        by_fields: dict[tuple[str, ...], list[Carer]] = {}
        for state in changed_carers.values():
            fields = tuple(sorted(state.changed))
            by_fields.setdefault(fields, []).append(
                Carer(pk=state.pk, full_name=state.full_name, email=state.email, phone=state.phone)
            )
            state.changed = set()
        for fields, carers in by_fields.items():
            Carer.objects.bulk_update(carers, list(fields), batch_size=BATCH)
        links = CarerLink.objects.bulk_create(
            [CarerLink(carer_id=carer.pk, pupil_id=pupil_id, **values) for carer, pupil_id, values in new_links],
            batch_size=BATCH,
        )
        for link in links:
            self.links[(link.carer_id, link.pupil_id)] = (link.pk, link.relationship, link.parental_responsibility)
        if changed_links:
            CarerLink.objects.bulk_update(
                [CarerLink(pk=pk, **values) for pk, values in changed_links.items()],
                self.link_values,
                batch_size=BATCH,
            )

    def finish(self, *, mark_missing_as_left: bool) -> Counts:
        return self.counts


WRITERS = {imports.PUPILS: PupilWriter, imports.CONTACTS: ContactWriter}
