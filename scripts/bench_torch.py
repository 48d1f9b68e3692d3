"""The PyTorch reference of `npm run bench`: one training step of each of the kit's five workloads.

  vae:     MLP VAE 784-400-20, Bernoulli, batch 128, Adam 1e-3 (one optimizer step)
  gan:     MLP GAN, G 100-256-512-1024-784, D 784-1024-512-256-1, batch 64, Adam 2e-4
           (one discriminator step + one generator step)
  rbm:     binary RBM 784x500, batch 100, CD-1 with plain SGD (one update)
  dcgan:   DCGAN on 28x28 images, batch 64, Adam 2e-4 (one D step + one G step)
           G: ConvT 100->128 7x7, BN, ReLU; ConvT 128->64 4x4 s2, BN, ReLU; ConvT 64->1 4x4 s2, tanh
           D: Conv 1->64 4x4 s2, LeakyReLU .2; Conv 64->128 4x4 s2, BN, LeakyReLU; Conv 128->1 7x7
  convvae: conv VAE, z = 20, batch 128, Bernoulli, Adam 1e-3 (one optimizer step)
           encoder: Conv 1->32 4x4 s2, ReLU; Conv 32->64 4x4 s2, ReLU; dense 3136 -> 20 + 20
           decoder: dense 20 -> 3136, ReLU; ConvT 64->32 4x4 s2, ReLU; ConvT 32->1 4x4 s2 (logits)

The same networks as the kit's model classes (lib/models), with PyTorch's default initialization.
Random binary (or uniform) images stand in for MNIST: the timing does not depend on the values.

Needs PyTorch (Debian/Ubuntu: apt-get install python3-torch; elsewhere: pip install torch).

  python3 scripts/bench_torch.py [--threads N] [--steps N] [--only dcgan,convvae]
      prints one line per workload: name, median ms/step over 5 rounds of N steps (default 20)
  python3 scripts/bench_torch.py --worker
      what `npm run bench -- --torch` runs: prints 'ready', then for each line 'NAME STEPS' read
      from stdin times STEPS steps of that workload and prints the ms per step
"""
import argparse
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def vae_step():
    enc1, enc2 = nn.Linear(784, 400), nn.Linear(400, 40)
    dec1, dec2 = nn.Linear(20, 400), nn.Linear(400, 784)
    params = [p for m in (enc1, enc2, dec1, dec2) for p in m.parameters()]
    opt = torch.optim.Adam(params, 1e-3)
    x = (torch.rand(128, 784) > 0.5).float()

    def step():
        opt.zero_grad()
        stats = enc2(F.relu(enc1(x)))
        mu, logvar = stats[:, :20], stats[:, 20:]
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = dec2(F.relu(dec1(z)))
        # ELBO = E_q[log p(x|z)] - KL(q(z|x) || p(z)), summed over the batch
        loss = (F.binary_cross_entropy_with_logits(logits, x, reduction='sum')
                - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()))
        loss.backward()
        opt.step()
    return step


def gan_steps(g, d, real, latent_shape):
    """One D step then one G step of the non-saturating GAN, both with Adam 2e-4, beta1 0.5."""
    og = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    ones, zeros = torch.ones(real.shape[0], 1), torch.zeros(real.shape[0], 1)

    def step():
        od.zero_grad()
        fake = g(torch.randn(*latent_shape))
        loss_d = (F.binary_cross_entropy_with_logits(d(real), ones)
                  + F.binary_cross_entropy_with_logits(d(fake.detach()), zeros))
        loss_d.backward()
        od.step()
        og.zero_grad()
        loss_g = F.binary_cross_entropy_with_logits(d(fake), ones)
        loss_g.backward()
        og.step()
    return step


def gan_step():
    g = nn.Sequential(nn.Linear(100, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
                      nn.Linear(512, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 784), nn.Tanh())
    d = nn.Sequential(nn.Linear(784, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 512),
                      nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))
    return gan_steps(g, d, torch.rand(64, 784) * 2 - 1, (64, 100))


def rbm_step():
    w = torch.randn(784, 500) * 0.01
    a, b = torch.zeros(784), torch.zeros(500)
    v0 = (torch.rand(100, 784) > 0.5).float()
    lr = 0.05

    def step():
        nonlocal w, a, b
        ph0 = torch.sigmoid(v0 @ w + b)
        h0 = torch.bernoulli(ph0)
        pv1 = torch.sigmoid(h0 @ w.t() + a)
        v1 = torch.bernoulli(pv1)
        ph1 = torch.sigmoid(v1 @ w + b)
        w = w + lr * (v0.t() @ ph0 - v1.t() @ ph1) / 100
        a = a + lr * (v0 - v1).mean(0)
        b = b + lr * (ph0 - ph1).mean(0)
    return step


def dcgan_step():
    g = nn.Sequential(
        nn.ConvTranspose2d(100, 128, 7, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Conv2d(128, 1, 7), nn.Flatten())
    return gan_steps(g, d, torch.rand(64, 1, 28, 28) * 2 - 1, (64, 100, 1, 1))


def convvae_step():
    enc = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
                        nn.Flatten(), nn.Linear(3136, 40))
    dec = nn.Sequential(nn.Linear(20, 3136), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
                        nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
                        nn.ConvTranspose2d(32, 1, 4, 2, 1))
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], 1e-3)
    x = (torch.rand(128, 1, 28, 28) > 0.5).float()

    def step():
        opt.zero_grad()
        stats = enc(x)
        mu, logvar = stats[:, :20], stats[:, 20:]
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = dec(z)
        loss = (F.binary_cross_entropy_with_logits(logits, x, reduction='sum')
                - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()))
        loss.backward()
        opt.step()
    return step


WORKLOADS = {'vae': vae_step, 'gan': gan_step, 'rbm': rbm_step, 'dcgan': dcgan_step,
             'convvae': convvae_step}


def time_steps(step, n):
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / n * 1000


def worker():
    steps = {}
    print('ready', flush=True)
    for line in sys.stdin:
        name, n = line.split()
        if name not in steps:
            steps[name] = WORKLOADS[name]()
        print(time_steps(steps[name], int(n)), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--only', default=','.join(WORKLOADS))
    parser.add_argument('--worker', action='store_true')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.worker:
        return worker()
    for name in args.only.split(','):
        if name not in WORKLOADS:
            parser.error(f"unknown workload '{name}': use some of {','.join(WORKLOADS)}")
        step = WORKLOADS[name]()
        time_steps(step, 3)
        rounds = [time_steps(step, args.steps) for _ in range(5)]
        print(f'{name} {statistics.median(rounds):.2f} ms/step', flush=True)


if __name__ == '__main__':
    main()
