"""The doctor's findings: one line per check, a fix under each problem."""

from __future__ import annotations

import dataclasses

OK, PROBLEM, WARNING, SKIPPED = "ok", "PROBLEM", "warning", "skipped"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One check's outcome; ``fix`` says what to do about a problem or a warning."""

    check: str
    status: str
    detail: str
    fix: str = ""


@dataclasses.dataclass
class Findings:
    """The findings in the order the checks ran."""

    items: list[Finding] = dataclasses.field(default_factory=list)

    def ok(self, check: str, detail: str) -> None:
        self.items.append(Finding(check, OK, detail))

    def problem(self, check: str, detail: str, fix: str) -> None:
        self.items.append(Finding(check, PROBLEM, detail, fix))

    def warning(self, check: str, detail: str, fix: str = "") -> None:
        self.items.append(Finding(check, WARNING, detail, fix))

    def skipped(self, check: str, detail: str) -> None:
        self.items.append(Finding(check, SKIPPED, detail))

    def status_of(self, check: str) -> str | None:
        """The status of the first finding of ``check``, ``None`` when it did not run."""
        return next((item.status for item in self.items if item.check == check), None)

    @property
    def problems(self) -> list[Finding]:
        return [item for item in self.items if item.status == PROBLEM]

    def report(self, shop_url: str) -> str:
        """The findings as the console prints them, a summary last."""
        width = max((len(item.check) for item in self.items), default=0)
        lines = [f"psonlinechat doctor: {shop_url}"]
        for item in self.items:
            lines.append(f"  {item.status:<8} {item.check:<{width}}  {item.detail}")
            if item.fix:
                lines.append(f"  {'':<8} {'':<{width}}  fix: {item.fix}")
        count = len(self.problems)
        lines.append("No problem found." if not count else
                     f"{count} problem{'s' if count > 1 else ''} to fix, in this order.")
        return "\n".join(lines)
