"""Pupil and parent/carer records as a school's information system holds them."""

from __future__ import annotations

from django.db import models


class Pupil(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="pupils")
    upn = models.CharField("UPN or admission number", max_length=20)
    legal_forename = models.CharField(max_length=100)
    legal_surname = models.CharField(max_length=100)
    preferred_forename = models.CharField(max_length=100, blank=True)
    preferred_surname = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    year_group = models.CharField(max_length=20, blank=True)
    registration_group = models.CharField(max_length=40, blank=True)
    # Leavers stay as former pupils: staff must not engage with them either (RS-STAFF-1).
    leaving_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["legal_surname", "legal_forename"]
        constraints = [models.UniqueConstraint(fields=["school", "upn"], name="unique_pupil_upn")]

    def __str__(self) -> str:
        return f"{self.forename} {self.surname}"

    @property
    def forename(self) -> str:
        return self.preferred_forename or self.legal_forename

    @property
    def surname(self) -> str:
        return self.preferred_surname or self.legal_surname


class Carer(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="carers")
    full_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    pupils = models.ManyToManyField(Pupil, through="CarerLink", related_name="carers")

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name


class CarerLink(models.Model):
    carer = models.ForeignKey(Carer, on_delete=models.CASCADE)
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE)
    relationship = models.CharField(max_length=60, blank=True)
    parental_responsibility = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["carer", "pupil"], name="one_link_per_carer_pupil")]

    def __str__(self) -> str:
        return f"{self.carer} — {self.relationship} of {self.pupil}"
