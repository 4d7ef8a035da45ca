# Not NetCDF: a text file named .nc.
name = "baseline"
