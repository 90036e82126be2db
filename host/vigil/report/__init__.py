"""`vigil report`: one folder with ``index.html`` and PNG plots of a night and a stress session.

    data = build_report_data(ReportInputs(night=Path("night.vrec"), stress_model=Path("build/stress")))
    written = write_report(data, Path("build/report"))

What is shown is built once, from frozen values (``frozen``), one subject per module:

- ``report_data``: ReportInputs, ReportData and ``build_report_data``, which assembles the parts below;
- ``night``: a recording made into spectrogram columns and sleep stages (SLEEP records), the hypnogram's data;
- ``stress_session``: PPG, beats, HRV per segment, and the segments' classification (STRESS records: the trio's
  and the consensus's outputs, alerts and their reasons);
- ``model_records``: the SLEEP / STRESS records of a device log or of the twin of a models/ bundle, as arrays;
- ``metrics_files``: the training folders' metrics.json (``json_keys``: by the exact keys vigil writes);
  ``night_metrics``: the sleep model scored on the night (``vigil.ml.metrics``); ``metrics_tables``: both as tables;
- ``verify_reports``: `vigil verify --json` reports; ``device_log``: `vigil replay --out` logs;
- ``model_folders``: the training folders' models, loaded to predict; ``recording_source``: a recording given;
- ``provenance``: inputs, their hashes, the models a device log announces against the report's;
- ``plots`` draws the PNGs (matplotlib, Agg); ``html`` writes the page; ``summary`` its report.json.
"""
