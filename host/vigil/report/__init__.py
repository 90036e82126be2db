"""`vigil report`: one folder with ``index.html`` and PNG plots of a night and a stress session.

    data = build_report_data(ReportInputs(night=Path("night.vrec"), stress_model=Path("build/stress")))
    written = write_report(data, Path("build/report"))

``report_data`` holds what is plotted (small dataclasses) and the builders that fill it from recordings, the
DSP twins, model folders, metrics files, `vigil verify --json` reports and device logs; ``plots`` draws the
PNGs (matplotlib, Agg); ``html`` writes the page.
"""
