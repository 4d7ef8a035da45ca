"""What `sim dashboard` (sim/commands/dashboard.py) tells the dashboard app (sim/dashboard.py): a
module of its own, so that the app imports no command and the command does not load the app's
heavy front end to build its arguments."""

DEFAULT_SCALE = 0.01  # share of real firms in the dashboard's model: a run 2012-2035 takes a fraction of a second (0.2 s measured)
SCALE_ENV = "SIM_DASHBOARD_SCALE"  # how the scale reaches the Solara app
