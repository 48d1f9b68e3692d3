#!/bin/bash
# Grades a class as a Slurm job array: task i of n grades shard i/n of the submissions into one
# shared output folder; merge when every task is done.
#
#   npm run build
#   sbatch --array=1-20 scripts/grading/slurm-grade.sh submissions/ build/grades
#   npm run grade -- merge build/grades      # after the array (or: sbatch --dependency=afterok:JOBID)
#
# Run from the kit's folder, on nodes that see it and the output folder (a shared file system) and
# have bubblewrap. Extra arguments go to the grader, e.g. --timeout 60.
#SBATCH --job-name=genlab-grade
#SBATCH --cpus-per-task=2
#SBATCH --mem-per-cpu=4G
#SBATCH --time=04:00:00
#SBATCH --output=genlab-grade-%A_%a.log
set -euo pipefail

if [ $# -lt 2 ] || [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
  echo "usage: sbatch --array=1-N $0 SUBMISSIONS OUT_DIR [grader options]" >&2
  exit 2
fi
submissions=$1
out=$2
shift 2
count=${SLURM_ARRAY_TASK_COUNT:?run it as a job array: sbatch --array=1-N}
index=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-1} + 1))

exec node dist/scripts/grade.js --shard "$index/$count" --jobs "${SLURM_CPUS_PER_TASK:-1}" \
  --out "$out" "$@" "$submissions"
