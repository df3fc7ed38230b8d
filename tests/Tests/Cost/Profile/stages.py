"""
Groups the on-CPU samples of `perf script` (see profile.sh) by stage, and prints the table of
docs/benchmarks.md: for each sample, from the leaf up, the first frame that says what the work is for
(PURPOSE); failing that, the library it is in (FALLBACK), the thread's name (THREADS) or the system call the
thread is in (SYSCALLS: the unwinder stops in libc, which has no frame pointers).

    python3 stages.py sqlite=7.20:run1/sqlite.script.txt,run2/sqlite.script.txt redis=8.55:...

where the number is the CPU per event (ms) of the window the samples come from.
"""
import collections
import re
import sys


def samples(path):
    """(thread name, [(symbol, object), ...] leaf first) for each sample of a `perf script -F comm,tid,ip,sym,dso` file."""
    comm, frames = None, []
    for line in open(path, errors='replace'):
        line = line.rstrip('\n')
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
        elif not line.startswith(('\t', ' ')):
            comm, frames = line.rsplit(' ', 2)[0].strip(), []
        elif m := re.match(r'\s*([0-9a-f]+)\s+(.*)\s+\((.*)\)$', line):
            frames.append((m.group(2), m.group(3)))
    if comm is not None and frames:
        yield comm, frames


def short(sym):
    """"instance void [asm] Ns.Type::Method(args)[Tier]" as "Ns.Type::Method"."""
    m = re.search(r'\]\s+([^\s\[]+::[^\(\s]+)', sym)
    return m.group(1) if m else sym


# Purpose markers, looked for from the leaf up; the first match names the stage.
PURPOSE = [
    ('scenario: /metrics scrapes', r'PrometheusExporterMiddleware|PrometheusCollectionManager|OpenTelemetry\.Exporter\.Prometheus'),
    ('Orleans Dashboard metric collection (timer)', r'Orleans\.Dashboard\.|DirectoryInstruments'),
    ('webhook accept (HMAC, parse, enqueue call)', r'CiTrigger\.Gateway\.'),
    ('manifest fetch (GitHub)', r'GitHubManifestSource'),
    ('YAML parse / annotate', r'CiTrigger\.Grains\.Manifests\.|YamlDotNet'),
    ('Kubernetes apply', r'KubernetesManifestApplier'),
    ('run following (watch)', r'KubernetesRunFollower|RunObserver|RunClassification'),
    ('check-run reporting (GitHub)', r'GitHubCheckRunReporter|ReportLanes|CheckRun|CommitStatus'),
    ('catalog writes', r'RefCatalog|SummaryPublisher|EventLines|CatalogJson'),
    ('grain state writes (queue, history)', r'SqliteGrainStorage|MeteredStorageSerializer|Orleans\.Storage\.|StateStorageBridge|MeteredReminderTable|SqliteReminderTable'),
    ('SQLite writer (group commit, fsync)', r'SqliteStore'),
    ('ref bookkeeping (queue, history, runs)', r'CiTrigger\.Grains\.Processing\.|CiTrigger\.Grains\.Pipeline\.'),
]
# Library fallbacks when no purpose marker is on the stack.
FALLBACK = [
    ('GitHub HTTP client (manifest or check run)', r'Octokit|InstallationAuthentication|ResponseSizeLimit'),
    ('Kubernetes client', r'^k8s\.|KubernetesClient'),
    ('Redis client', r'StackExchange\.Redis|Pipelines\.Sockets'),
    ('SQLite (native)', r'sqlite3|SQLitePCL|Microsoft\.Data\.Sqlite'),
    ('HTTP server (Kestrel)', r'Microsoft\.AspNetCore|Kestrel'),
    ('HTTP client (unattributed)', r'System\.Net\.Http\.'),
    ('Orleans runtime (messaging, scheduling, serialization)', r'^Orleans\.'),
    ('socket I/O (unattributed)', r'System\.Net\.Sockets|SocketAsyncEngine'),
    ('thread pool: idle workers spinning', r'LowLevelLifoSemaphore::Wait|LowLevelSpinWaiter'),
    ('timers (unattributed)', r'TimerQueue'),
]

# Threads that say what they do.
THREADS = [
    ('DefaultSocketMa', 'Redis client'), ('StackExchange.R', 'Redis client'),
    ('OpenTelemetry-P', 'Orleans Dashboard metric collection (timer)'),
    ('.NET Timer', 'timers (unattributed)'), ('.NET Counter Po', 'timers (unattributed)'),
]
# The unwinder stops in libc (no frame pointers there): the system call tells what the thread was doing.
SYSCALLS = [
    ('SQLite file I/O (kernel: write, fsync, locks)', r'fsync|pwrite|pread|fcntl'),
    ('thread pool: idle workers spinning', r'sched_yield'),
    ('socket send/receive (kernel)', r'sendto|recvfrom|__send|__libc_recv|tcp_|sock_'),
    ('thread wake-ups and waits (futex)', r'futex|pthread_cond'),
]

def stage(comm, frames):
    names = [short(sym) for sym, dso in frames]
    if comm.startswith('.NET Tiered Com') or any('libclrjit' in dso for _, dso in frames[:3]):
        return 'JIT'
    if 'GC' in comm and ('Server GC' in comm or 'BGC' in comm):
        return 'GC'
    for name in names:
        for label, rx in PURPOSE:
            if re.search(rx, name):
                return label
    for name in names:
        for label, rx in FALLBACK:
            if re.search(rx, name):
                return label
    if any('libe_sqlite3' in dso for _, dso in frames):
        return 'SQLite (native)'
    for prefix, label in THREADS:
        if comm.startswith(prefix):
            return label
    for name in names:
        for label, rx in SYSCALLS:
            if re.search(rx, name):
                return label
    if any('libcrypto' in dso for _, dso in frames):
        return 'crypto (HMAC, App JWT; caller not on the stack)'
    return 'other'


GROUPS = [
    ('webhook accept (Kestrel, HMAC, parse, enqueue)', ['webhook accept (HMAC, parse, enqueue call)', 'HTTP server (Kestrel)']),
    ('manifest fetch (GitHub contents API)', ['manifest fetch (GitHub)']),
    ('YAML parse / annotate', ['YAML parse / annotate']),
    ('Kubernetes apply', ['Kubernetes apply', 'Kubernetes client']),
    ('run following (watch events)', ['run following (watch)']),
    ('check-run reporting (1 POST, 2 PATCH)', ['check-run reporting (GitHub)']),
    ('GitHub HTTP client, manifest or check run (stack cut)', ['GitHub HTTP client (manifest or check run)', 'crypto (HMAC, App JWT; caller not on the stack)']),
    ('grain state writes (queue, history), serialization included', ['grain state writes (queue, history)']),
    ('catalog writes (ref line, event line, delivery, manifest, running)', ['catalog writes']),
    ('store engine (SQLite writer, SQLite, file I/O and fsync; or the Redis client)', ['SQLite writer (group commit, fsync)', 'SQLite (native)', 'SQLite file I/O (kernel: write, fsync, locks)', 'Redis client']),
    ('ref bookkeeping (queue, history, runs, drain loop)', ['ref bookkeeping (queue, history, runs)']),
    ('Orleans runtime (messaging, scheduling, serialization)', ['Orleans runtime (messaging, scheduling, serialization)']),
    ('network I/O not attributable (sockets, HTTP client, kernel)', ['socket I/O (unattributed)', 'HTTP client (unattributed)', 'socket send/receive (kernel)']),
    ('thread pool: spinning idle workers, wake-ups', ['thread pool: idle workers spinning', 'thread wake-ups and waits (futex)']),
    ('GC (server GC threads)', ['GC']),
    ('JIT', ['JIT']),
    ('timers: Orleans Dashboard metric collection, others', ['Orleans Dashboard metric collection (timer)', 'timers (unattributed)']),
    ('the scenario\'s two /metrics scrapes', ['scenario: /metrics scrapes']),
    ('other', ['other']),
]
def counts(paths):
    c = collections.Counter()
    for p in paths:
        for comm, frames in samples(p):
            c[stage(comm, frames)] += 1
    return c

if __name__ == '__main__':
    cols = []
    for arg in sys.argv[1:]:
        name, rest = arg.split('=', 1); ms, paths = rest.split(':', 1)
        cols.append((name, float(ms), counts(paths.split(','))))
    known = {s for _, ss in GROUPS for s in ss}
    for name, ms, c in cols:
        missing = set(c) - known
        assert not missing, missing
    print('| stage | ' + ' | '.join(f'{n} % | {n} ms/event' for n, _, _ in cols) + ' |')
    print('|---|' + '---|---|' * len(cols))
    for label, ss in GROUPS:
        row = []
        for name, ms, c in cols:
            n = sum(c.values()); v = sum(c[s] for s in ss)
            row.append(f'{100*v/n:.1f} | {ms*v/n:.2f}')
        print(f'| {label} | ' + ' | '.join(row) + ' |')
    for name, ms, c in cols:
        print(name, 'samples', sum(c.values()))
