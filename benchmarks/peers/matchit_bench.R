# R's MatchIt on the benchmark data: the same task as tiltak's end-to-end benchmark.
# Usage: Rscript matchit_bench.R FILE.csv   -> last line: {"seconds": ...}
# Reads with data.table::fread, fits glm, 1:1 nearest without replacement with a 0.2 SD
# caliper (MatchIt 4.5.1's propensity-score-vector path), summary() balance, and the ATT
# with a pair-clustered SE (lm + sandwich::vcovCL).
suppressPackageStartupMessages({library(MatchIt); library(data.table); library(sandwich)})
args <- commandArgs(trailingOnly = TRUE)
start <- proc.time()[["elapsed"]]
d <- as.data.frame(fread(args[1]))
m <- matchit(treat ~ age + sex + household + nationality + dublin + identity_documented +
               months_since_decision + health_issue, data = d, method = "nearest",
             distance = "glm", caliper = 0.2)
s <- summary(m)
md <- match.data(m)
fit <- lm(y ~ treat, data = md, weights = weights)
se <- sqrt(vcovCL(fit, cluster = ~subclass)["treat", "treat"])
elapsed <- proc.time()[["elapsed"]] - start
cat(sprintf('{"seconds": %.3f, "att": %.6f, "se": %.6f}\n', elapsed, coef(fit)[["treat"]], se))
