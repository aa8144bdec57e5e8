# R's MatchIt on the data of benchmarks/bench_speed.py: matchit() and summary() timed apart.
# Usage: R_LIBS=<library with MatchIt> Rscript matchit_speed.R FILE.csv
# Last line: {"version": ..., "read": s, "matchit": s, "summary": s}
# The same task as tiltak's in-memory figure: glm propensity score, 1:1 nearest neighbour
# without replacement, caliper 0.2 SD (MatchIt's default call plus the caliper).
suppressPackageStartupMessages(library(MatchIt))
args <- commandArgs(trailingOnly = TRUE)
t0 <- proc.time()[["elapsed"]]
d <- if (requireNamespace("data.table", quietly = TRUE)) {
  as.data.frame(data.table::fread(args[1]))
} else {
  read.csv(args[1])
}
d$region <- factor(d$region)
t1 <- proc.time()[["elapsed"]]
covs <- c(sprintf("c%02d", 1:12), sprintf("b%d", 1:6), "region")
m <- matchit(reformulate(covs, "treat"), data = d, method = "nearest", distance = "glm",
             caliper = 0.2)
t2 <- proc.time()[["elapsed"]]
s <- summary(m)
t3 <- proc.time()[["elapsed"]]
cat(sprintf('{"version": "%s", "read": %.3f, "matchit": %.3f, "summary": %.3f}\n',
            as.character(packageVersion("MatchIt")), t1 - t0, t2 - t1, t3 - t2))
