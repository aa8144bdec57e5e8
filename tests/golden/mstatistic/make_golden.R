# Golden numbers for estimation.rosenbaum_mstatistic: Rosenbaum's M-statistic sensitivity
# analysis for matched sets with several controls, from sensitivitymv::senmv.
#
# Run from the repository root: R_LIBS=<library with sensitivitymv 1.4.3> Rscript \
#   tests/golden/mstatistic/make_golden.R
# sensitivitymv is not packaged for Debian: it was installed (R CMD INSTALL, no compiled
# code) from github.com/cran/sensitivitymv, commit a4d59d3 ("version 1.4.3", the CRAN
# release of 2018-06-13), into a private library named by R_LIBS.
#
# Data: simulated here (set.seed), written next to the results.
#   sets3:    200 sets of one treated and 3 controls, continuous, a shift of 0.3.
#   variable: 150 sets of one treated and 1 to 5 controls (NA-padded), heavy tails.
#   binary:   300 sets of one treated and 3 controls, 0/1 outcome (most pairwise
#             differences are 0: senmv then scores raw differences, unscaled).
#   ties:     120 sets of one treated and 2 controls, values rounded to whole numbers.
#   lalonde:  the 3:1 exact match of tests/golden/balance_extra (re78 / 1000).
library(sensitivitymv)
stopifnot(packageVersion("sensitivitymv") == "1.4.3")
fmt <- function(x) trimws(formatC(x, digits = 17, format = "g"))
out <- "tests/golden/mstatistic"
set.seed(20251201)

pad <- function(rows, width) t(sapply(rows, function(r) c(r, rep(NA, width - length(r)))))
sets3 <- cbind(rnorm(200, 0.3), matrix(rnorm(600), 200, 3))
variable <- pad(lapply(1:150, function(i) {
  k <- sample(1:5, 1); c(rt(1, 3) + 0.4, rt(k, 3))
}), 6)
binary <- cbind(rbinom(300, 1, 0.35), matrix(rbinom(900, 1, 0.25), 300, 3))
ties <- cbind(round(rnorm(120, 0.4) * 2), matrix(round(rnorm(240) * 2), 120, 2))

src <- "tests/golden/balance_extra"
lalonde <- read.csv(file.path(src, "lalonde.csv"))
mm <- read.csv(file.path(src, "lalonde_nn3_exact_match_matrix.csv"))
control_cols <- setdiff(names(mm), "treated_row")
y <- lalonde$re78 / 1000
lal <- t(apply(mm, 1, function(r) {
  controls <- as.numeric(r[control_cols]); controls <- controls[controls >= 0]
  c(y[r[["treated_row"]] + 1], y[controls + 1], rep(NA, length(control_cols) - length(controls)))
}))
lal <- lal[rowSums(!is.na(lal)) >= 2, , drop = FALSE]

datasets <- list(sets3 = sets3, variable = variable, binary = binary, ties = ties,
                 lalonde = lal)
for (name in names(datasets)) {
  m <- datasets[[name]]
  colnames(m) <- c("treated", paste0("control_", seq_len(ncol(m) - 1)))
  write.csv(m, file.path(out, paste0(name, ".csv")), row.names = FALSE, na = "")
}

settings <- list(
  default = list(), i = list(method = "i"), t = list(method = "t"),
  trim1 = list(trim = 1), inner = list(inner = 0.5, trim = 3, lambda = 0.8),
  tau = list(tau = 0.2))
gammas <- c(1, 1.25, 1.5, 2, 3, 5)
rows <- NULL
for (name in names(datasets)) {
  for (setting in names(settings)) {
    if (name == "binary" && setting %in% c("i", "inner")) next  # scale 0: same as default
    for (g in gammas) {
      r <- do.call(senmv, c(list(y = datasets[[name]], gamma = g), settings[[setting]]))
      rows <- rbind(rows, data.frame(dataset = name, setting = setting, gamma = g,
                                     pval = fmt(r$pval), deviate = fmt(r$deviate),
                                     statistic = fmt(r$statistic),
                                     expectation = fmt(r$expectation),
                                     variance = fmt(r$variance)))
    }
  }
}
write.csv(rows, file.path(out, "senmv.csv"), row.names = FALSE)
cat("written to", out, "\n")
