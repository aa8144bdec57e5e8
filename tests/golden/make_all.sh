#!/bin/sh
# Regenerate every golden file of tests/golden from R, each script from the folder it is
# written for (some read and write relative to the repository root, some relative to their
# own folder). Run from anywhere:  sh tests/golden/make_all.sh [NAME ...]
# (NAME: a folder of tests/golden, e.g. "ties"; default: all, in the order below).
#
# Debian's R packages give most files: r-cran-matchit (4.5.1), r-cran-sandwich,
# r-cran-lmtest, r-cran-jsonlite, r-cran-cmprsk, r-cran-matching. The others need a private
# library built from a public repository, named by an environment variable (the script
# that needs one is skipped, with a message, when its variable is not set):
#   MATCHIT_454_LIBS     MatchIt 4.5.4, commit dae1eb4 ("Prep for sumbission", 2023-06-03),
#                        chk 0.9.2, rlang 1.1.7                              (ties)
#   MATCHIT_472_LIBS     MatchIt 4.7.2 (the 4.7.2 release), chk 0.10.0, rlang 1.1.7
#                        (ties; the 4.7.2 case of methods)
#   SURVIVAL_LIBS        survival 3.8-3, commit b8c2624 of therneau/survival  (incidence)
#   SENSITIVITYMV_LIBS   sensitivitymv 1.4.3, commit a4d59d3 of cran/sensitivitymv (mstatistic)
#   SENSITIVITYFULL_LIBS sensitivityfull 1.5.6, commit c99dbfb of cran/sensitivityfull (mstatistic, senfm)
# The suite never needs R: the outputs are committed. After a run, `git diff --stat
# tests/golden` shows what changed.
set -eu

GOLDEN=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$GOLDEN/../.." && pwd)
ONLY="$*"

wanted() {
    [ -z "$ONLY" ] && return 0
    for name in $ONLY; do [ "$name" = "$1" ] && return 0; done
    return 1
}

# run NAME WHERE SCRIPT [LIBS]: Rscript tests/golden/NAME/SCRIPT from WHERE ("root" or
# "folder"), with R_LIBS set to LIBS when given.
run() {
    name=$1 where=$2 script=$3 libs=${4-}
    wanted "$name" || return 0
    if [ "$where" = root ]; then dir=$ROOT path=tests/golden/$name/$script; else dir=$GOLDEN/$name path=$script; fi
    echo "== $name/$script${libs:+ (R_LIBS=$libs)}"
    if [ -n "$libs" ]; then
        (cd "$dir" && R_LIBS=$libs Rscript "$path")
    else
        (cd "$dir" && Rscript "$path")
    fi
}

# needs NAME SCRIPT VARIABLE: the script needs a private library; say so when it is not set.
needs() {
    wanted "$1" || return 1
    eval "value=\${$3-}"
    if [ -z "$value" ]; then
        echo "== $1/$2: skipped (set $3 to the library it needs; see the top of this file)"
        return 1
    fi
}

run matching folder make_golden.R
run matching folder make_reference.R            # writes ../balance and ../effects
run matching folder make_riskset.R
run matching folder make_riskset_trials.R        # reads riskset.csv
run scale folder glm.R
run distances folder make_distances.R
if needs distances make_distances.R MATCHIT_472_LIBS; then run distances folder make_distances.R "$MATCHIT_472_LIBS"; fi
run balance_extra root make_golden.R
run sensitivity root make_golden.R               # reads balance_extra
run multiway root make_golden.R
run methods folder make_golden.R
if needs methods make_golden.R MATCHIT_472_LIBS; then run methods folder make_golden.R "$MATCHIT_472_LIBS"; fi
run methods folder make_k2k.R                     # reads lalonde.csv and sim.csv
if needs ties make_ties.R MATCHIT_454_LIBS; then run ties folder make_ties.R "$MATCHIT_454_LIBS"; fi
if needs ties make_ties.R MATCHIT_472_LIBS; then run ties folder make_ties.R "$MATCHIT_472_LIBS"; fi
if needs incidence make_golden.R SURVIVAL_LIBS; then run incidence root make_golden.R "$SURVIVAL_LIBS"; fi
if needs mstatistic make_golden.R SENSITIVITYMV_LIBS; then run mstatistic root make_golden.R "$SENSITIVITYMV_LIBS"; fi
if needs mstatistic make_senfm.R SENSITIVITYFULL_LIBS; then run mstatistic root make_senfm.R "$SENSITIVITYFULL_LIBS"; fi
