"""Impact and cost-effectiveness model of HIV, HCV and overdose among people who inject drugs.

The numerical core (``core``, ``outcomes``, ``uncertainty``, ``calibration``,
``optimization``) imports neither Django nor the database. Entry points for other code:
``salus.model.api.run_scenario_dict`` and ``salus.model.api.compare_dicts``.
"""
