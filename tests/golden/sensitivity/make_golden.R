# Golden Rosenbaum bounds, computed independently in base R.
#
# Run from the repository root: Rscript tests/golden/sensitivity/make_golden.R
# The rbounds package is not packaged for Debian, so its two functions are re-implemented
# here from their published definitions (rbounds 2.1, Keele 2010):
#   binarysens(x, y, Gamma, GammaInc): upper = sum(dbinom(trt:mx, mx, G/(1+G))),
#                                      lower = sum(dbinom(trt:mx, mx, 1/(1+G)))
#   psens(x, y, Gamma, GammaInc): Wilcoxon signed rank on x - y, zeros dropped, average ranks,
#                                 T = sum of ranks of positive differences,
#                                 E = p * sum(ranks), V = p (1 - p) sum(ranks^2), 1 - pnorm(z)
# Inputs: the 1:1 lalonde match of tests/golden/balance_extra (re78 and re78 > 0).
fmt <- function(x) trimws(formatC(x, digits = 17, format = "g"))
src <- "tests/golden/balance_extra"
out <- "tests/golden/sensitivity"
lalonde <- read.csv(file.path(src, "lalonde.csv"))
mm <- read.csv(file.path(src, "lalonde_nn1_match_matrix.csv"))
names(mm)[2] <- "control_row"
mm <- mm[mm$control_row >= 0, ]
y_t <- lalonde$re78[mm$treated_row + 1]
y_c <- lalonde$re78[mm$control_row + 1]

binarysens <- function(trt, ctrl, gammas) {
  mx <- ctrl + trt
  series <- trt:mx
  t(sapply(gammas, function(g) c(
    gamma = g,
    lower = sum(dbinom(series, mx, prob = 1 / (1 + g))),
    upper = sum(dbinom(series, mx, prob = g / (1 + g))))))
}
psens <- function(trt, ctrl, gammas) {
  diff <- trt - ctrl
  diff <- diff[diff != 0]
  ranks <- rank(abs(diff), ties.method = "average")
  T <- sum(ranks[diff > 0])
  t(sapply(gammas, function(g) {
    pp <- g / (1 + g); pm <- 1 / (1 + g)
    V <- sum(ranks^2) * pp * (1 - pp)
    c(gamma = g, lower = 1 - pnorm((T - pm * sum(ranks)) / sqrt(V)),
      upper = 1 - pnorm((T - pp * sum(ranks)) / sqrt(V)))
  }))
}
gammas <- c(1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6)
b_t <- as.numeric(y_t > 0); b_c <- as.numeric(y_c > 0)
trt <- sum(b_t == 1 & b_c == 0); ctrl <- sum(b_t == 0 & b_c == 1)
res_b <- binarysens(trt, ctrl, gammas)
write.csv(data.frame(gamma = res_b[, 1], lower = fmt(res_b[, 2]), upper = fmt(res_b[, 3]),
                     treated_only = trt, control_only = ctrl),
          file.path(out, "lalonde_nn1_binary.csv"), row.names = FALSE)
res_w <- psens(y_t, y_c, gammas)
write.csv(data.frame(gamma = res_w[, 1], lower = fmt(res_w[, 2]), upper = fmt(res_w[, 3])),
          file.path(out, "lalonde_nn1_wilcoxon.csv"), row.names = FALSE)
# A small hand-checkable case: 12 pairs favour treatment, 3 favour control.
res_s <- binarysens(12, 3, gammas)
write.csv(data.frame(gamma = res_s[, 1], lower = fmt(res_s[, 2]), upper = fmt(res_s[, 3])),
          file.path(out, "counts_12_3_binary.csv"), row.names = FALSE)
cat("written to", out, "\n")
