"""The governors' report: the period's figures from every other app, counts only, as a page and a PDF."""
