"""The report's period: two dates, checked."""

from __future__ import annotations

import datetime as dt

from django import forms

from schoolgate.reporting.figures import LONGEST_PERIOD_DAYS, Period


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", widget=DateInput())
    end = forms.DateField(label="To", widget=DateInput())

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end > self.today:
                raise forms.ValidationError("The period cannot end after today.")
            if start > end:
                raise forms.ValidationError("The period must start before it ends.")
            if (end - start).days > LONGEST_PERIOD_DAYS:
                raise forms.ValidationError("Choose a period of three years or less.")
        return data

    def period(self) -> Period:
        return Period(self.cleaned_data["start"], self.cleaned_data["end"])
