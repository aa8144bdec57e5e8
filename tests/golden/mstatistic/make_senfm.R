# Golden numbers for Rosenbaum's M-statistic with full-matching sets (several treated units
# and one control, or one treated unit and several controls), from sensitivityfull::senfm.
#
# Run from the repository root: R_LIBS=<library with sensitivityfull 1.5.6> Rscript \
#   tests/golden/mstatistic/make_senfm.R
# sensitivityfull is not packaged for Debian: it was installed (R CMD INSTALL, no compiled
# code) from github.com/cran/sensitivityfull, commit c99dbfb ("version 1.5.6", the CRAN
# release of 2017-04-04), into a private library named by R_LIBS.
#
# Each data set is a matrix of sets: column 1 is the set's single unit (the treated unit when
# `treated1` is TRUE, the control when it is FALSE), the other columns the rest, NA-padded.
#   doc:     the 9-set example of senfm's help page (3 sets 1:2, 3 pairs, 3 sets 2:1).
#   mixed:   160 sets, 1:1 to 1:4 and 2:1 to 4:1, Normal outcomes with an effect of 0.4.
#   heavy:   120 sets like `mixed`, t(3) outcomes, effect 0.3.
#   binary:  200 sets like `mixed`, 0/1 outcomes (P 0.35 treated, 0.25 control).
library(sensitivityfull)
stopifnot(packageVersion("sensitivityfull") == "1.5.6")
fmt <- function(x) trimws(formatC(x, digits = 17, format = "g"))
out <- "tests/golden/mstatistic"
set.seed(20261202)

doc <- matrix(c(2.2, 1.4, 1.6, 2.4, 0.7, 1.3, 1.2, 0.6, 0.3,
                0.5, -0.1, -1.3, -0.3, 0.1, 0.4, 3.0, 1.1, 1.4, -0.8,
                0.1, 0.8, NA, NA, NA, 1.1, 0.5, 1.8), 9, 3)
doc_t1 <- c(rep(TRUE, 6), rep(FALSE, 3))

full_sets <- function(n, draw_t, draw_c, width = 5) {
  treated1 <- logical(n)
  y <- matrix(NA_real_, n, width)
  for (i in seq_len(n)) {
    if (runif(1) < 0.6) {  # one treated unit and 1 to 4 controls
      k <- sample(1:4, 1); treated1[i] <- TRUE
      y[i, 1:(k + 1)] <- c(draw_t(1), draw_c(k))
    } else {               # one control and 2 to 4 treated units
      k <- sample(2:4, 1); treated1[i] <- FALSE
      y[i, 1:(k + 1)] <- c(draw_c(1), draw_t(k))
    }
  }
  list(y = y, treated1 = treated1)
}
mixed <- full_sets(160, function(k) rnorm(k, 0.4), function(k) rnorm(k))
heavy <- full_sets(120, function(k) rt(k, 3) + 0.3, function(k) rt(k, 3))
binary <- full_sets(200, function(k) rbinom(k, 1, 0.35), function(k) rbinom(k, 1, 0.25))

datasets <- list(doc = list(y = doc, treated1 = doc_t1), mixed = mixed, heavy = heavy, binary = binary)
for (name in names(datasets)) {
  m <- datasets[[name]]$y
  colnames(m) <- c("single", paste0("other_", seq_len(ncol(m) - 1)))
  write.csv(data.frame(treated1 = datasets[[name]]$treated1, m),
            file.path(out, paste0("full_", name, ".csv")), row.names = FALSE, na = "")
}

settings <- list(
  default = list(), trim1 = list(trim = 1), inner = list(inner = 0.5, trim = 3, lambda = 0.8),
  tau = list(tau = 0.2), less = list(alternative = "less"), ls = list(trim = Inf))
gammas <- c(1, 1.25, 1.5, 2, 3)
rows <- NULL
for (name in names(datasets)) {
  for (setting in names(settings)) {
    if (name == "binary" && setting %in% c("inner", "trim1")) next  # scale 0: same as default
    for (g in gammas) {
      r <- do.call(senfm, c(list(y = datasets[[name]]$y, treated1 = datasets[[name]]$treated1, gamma = g),
                            settings[[setting]]))
      rows <- rbind(rows, data.frame(dataset = name, setting = setting, gamma = g,
                                     pval = fmt(r$pval), deviate = fmt(r$deviate),
                                     statistic = fmt(r$statistic),
                                     expectation = fmt(r$expectation),
                                     variance = fmt(r$variance)))
    }
  }
}
write.csv(rows, file.path(out, "senfm.csv"), row.names = FALSE)
cat("written to", out, "\n")
