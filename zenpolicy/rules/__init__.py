"""The rule language: parsing, parameters, time, schedules, messages, examples."""
