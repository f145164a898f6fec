# The L = 6 check of the annealed estimator (run from the repository root, 2 ranks).
# Coupling family: a fresh small-budget flow, its ensemble, two annealed ensembles (seeds 11, 12)
# and the flow's own weights through the annealing path with K = 0 (seed 13).
set -e
D=runs/cpl6
mpirun -np 2 build/flowlat train input/critical/phi4_L6.yaml --set run.output_dir=$D/flow --set train.steps=1500 --set train.eval_every=375
mpirun -np 2 build/flowlat sample input/critical/phi4_L6.yaml --model $D/flow/model_best.pt --output $D/ensemble.h5 --json $D/ensemble.json --set run.output_dir=$D/flow --set sample.n_configs=65536
for seed in 11 12; do
  mpirun -np 2 build/flowlat sample input/critical/phi4_L6.yaml --model $D/flow/model_best.pt --output $D/annealed_$seed.h5 --json $D/annealed_$seed.json --set run.output_dir=$D/flow --set sample.anneal_steps=10 --set sample.n_configs=32768 --set sample.batch_size=512 --set sample.seed=$seed
done
mpirun -np 2 build/flowlat sample input/critical/phi4_L6.yaml --model $D/flow/model_best.pt --output $D/anneal0.h5 --json $D/anneal0.json --set run.output_dir=$D/flow --set sample.anneal_steps=0 --set sample.n_configs=65536 --set sample.seed=13
# Continuous family: the critical-line study's L = 6 flow (runs/study/small_continuous), annealed.
S=runs/anneal_L6c
mpirun -np 2 build/flowlat sample input/critical_ode/phi4_L6.yaml --model runs/study/small_continuous/L6/flow/model_best.pt --output $S/annealed.h5 --json $S/annealed.json --set run.output_dir=$S --set sample.anneal_steps=10 --set sample.n_configs=32768 --set sample.batch_size=512
