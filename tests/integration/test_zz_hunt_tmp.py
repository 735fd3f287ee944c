from temporalio.client import Client
from tests.integration import test_cron_differential as d

async def test_hunt(temporal_client: Client) -> None:
    import random
    corpus = []
    for seed in (404, 505, 606):
        corpus += d.random_corpus(150, seed)
    rng = random.Random(77)
    names = ["MON", "tue", "Wednesday", "FRI-SAT", "sun", "SAT,SUN", "mon-fri", "thu"]
    months = ["JAN", "mar-oct", "*", "*", "FEB", "oct,nov", "APR"]
    for _ in range(80):
        m = ",".join(str(v) for v in sorted(rng.sample(range(60), rng.randint(1, 2))))
        h = rng.choice(["*", "0-3", "1,2", "23,0", "2", "*/2", "22-23"])
        dom = rng.choice(["*", "*", "1-7", "8-14", "25-31", "29-31", "*/2"])
        corpus.append((f"{m} {h} {dom} {rng.choice(months)} {rng.choice(names + ['*'])}", rng.choice(d.WEST + d.EAST)))
    answers = await d.ask_temporal(temporal_client, corpus)
    diffs = [line for (e, z), a in zip(corpus, answers) if (line := d.difference(e, z, d.port_times(e, z), a))]
    print(f"\nHUNT: {len(diffs)} of {len(corpus)} differ")
    for line in diffs[:30]:
        print(line)
