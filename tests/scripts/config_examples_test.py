#!/usr/bin/env python3
"""The example files of config/ against the code they describe:

  - config/grafana-dashboard.json is a dashboard Grafana can import (a datasource input, the run
    variable), and every metric its queries name is one synwave exposes: synwave_<counter>_total
    for each counter of include/synwave/counters.hpp, synwave_dataplane_<name>_total for each of
    WorkerCounters (src/dpdk/stats_slot.hpp), and the gauges and histograms of the metrics
    contract; every selector is filtered by $run, and its labels are the contract's;
  - every YAML file under config/ parses; the Ansible playbook uses only variables that it or the
    example inventory defines and passes --shard, --start-at, --metrics, --run-id and --report;
    the Kubernetes Job is Indexed with as many pods as shards, and its ConfigMap's client.toml
    holds only keys that are client options; config/prometheus.yml scrapes four targets.

No network, no build; well under a second. Run by meson (`meson test -C build config-examples`) or
directly: /usr/bin/python3 THIS_FILE
"""
import glob
import json
import os
import re
import sys
import tomllib
import unittest

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(REPO, "config")


def read(*parts):
    with open(os.path.join(REPO, *parts), encoding="utf-8") as f:
        return f.read()


def engine_counters():
    return re.findall(r"^\s*X\((\w+),", read("include", "synwave", "counters.hpp"), re.M)


def dataplane_counters():
    # WorkerCounters::for_each lists every field by name; longest_pass_us is a maximum, exposed as
    # the gauge synwave_lcore_longest_pass_seconds, not as a counter.
    body = read("src", "dpdk", "stats_slot.hpp").split("struct WorkerCounters", 1)[1].split("};", 1)[0]
    return [n for n in re.findall(r'f\("(\w+)",', body) if n != "longest_pass_us"]


def tcp_states():
    return re.findall(r'return "([A-Z0-9-]+)";', read("include", "synwave", "tcp_state.hpp"))


def exposed_metrics():
    names = {"synwave_info", "synwave_connections", "synwave_lcore_seconds_total",
             "synwave_lcore_busy_seconds_total", "synwave_lcore_longest_pass_seconds"}
    names |= {f"synwave_{c}_total" for c in engine_counters()}
    names |= {f"synwave_dataplane_{c}_total" for c in dataplane_counters()}
    for h in ("connect", "transaction"):
        names |= {f"synwave_{h}_latency_seconds_{s}" for s in ("bucket", "sum", "count")}
    return names


# The contract's labels, and those Prometheus adds to every target.
LABELS = {"run", "mode", "role", "lcore", "family", "state", "le", "instance", "job"}


def panels(dashboard):
    for p in dashboard["panels"]:
        yield p
        yield from p.get("panels", [])  # a collapsed row holds its panels


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dashboard = json.loads(read("config", "grafana-dashboard.json"))
        cls.targets = [(p["title"], t) for p in panels(cls.dashboard) for t in p.get("targets", [])]

    def test_importable(self):
        d = self.dashboard
        self.assertIn("DS_PROMETHEUS", [i["name"] for i in d["__inputs"]])
        variables = {v["name"]: v for v in d["templating"]["list"]}
        self.assertEqual(variables["datasource"]["type"], "datasource")
        self.assertEqual(variables["datasource"]["query"], "prometheus")
        self.assertIn("label_values(synwave_info, run)", json.dumps(variables["run"]["query"]))
        ids = [p["id"] for p in panels(d)]
        self.assertEqual(len(ids), len(set(ids)), "panel ids repeat")
        for p in panels(d):
            self.assertIn("gridPos", p, p["title"])
            if p["type"] != "row":
                self.assertEqual(p["datasource"]["uid"], "${datasource}", p["title"])
        self.assertGreater(len(self.targets), 10)

    def test_metric_names_and_labels(self):
        exposed = exposed_metrics()
        states = set(tcp_states())
        self.assertIn("SYN-RECEIVED", states)
        for title, target in self.targets:
            expr = target["expr"]
            with self.subTest(panel=title, expr=expr):
                # Every synwave metric with its selector: name{matchers}.
                selectors = re.findall(r"\b(synwave_\w+)(\{[^}]*\})?", expr)
                self.assertTrue(selectors, "no synwave metric")
                for name, matchers in selectors:
                    self.assertTrue(name in exposed, f"{name} is not a metric synwave exposes")
                    self.assertIn('run=~"$run"', matchers, f"{name} is not filtered by the run variable")
                    for label, _, value in re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"', matchers):
                        self.assertIn(label, LABELS)
                        if label == "role":
                            self.assertIn(value, ("client", "server"))
                        if label == "state":
                            self.assertIn(value, states)
                for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
                    for label in filter(None, (g.strip() for g in group.split(","))):
                        self.assertIn(label, LABELS)

    def test_reasons_cover_every_counter(self):
        # Drops and failures are drawn one query per counter (rate() loses the metric name): a
        # counter added to counters.hpp must be added there too.
        by_title = {p["title"]: p for p in panels(self.dashboard)}
        for title, prefix in (("Drops by reason", "drop_"), ("Failures by reason", "conn_failed_")):
            drawn = {re.search(r"synwave_(\w+)_total", t["expr"]).group(1) for t in by_title[title]["targets"]}
            self.assertEqual(drawn, {c for c in engine_counters() if c.startswith(prefix)}, title)


def yaml_files():
    return sorted(glob.glob(os.path.join(CONFIG, "**", "*.yml"), recursive=True) +
                  glob.glob(os.path.join(CONFIG, "**", "*.yaml"), recursive=True))


class YamlExamplesTest(unittest.TestCase):
    def test_every_yaml_parses(self):
        files = yaml_files()
        self.assertGreaterEqual(len(files), 5)
        for path in files:
            with self.subTest(path=os.path.relpath(path, REPO)), open(path, encoding="utf-8") as f:
                self.assertTrue([d for d in yaml.safe_load_all(f) if d is not None])

    def test_ansible_playbook(self):
        text = read("config", "ansible", "synwave-multi-host.yml")
        plays = yaml.safe_load(text)
        inventory = yaml.safe_load(read("config", "ansible", "inventory.example.yml"))
        clients = inventory["all"]["children"]["synwave_clients"]
        self.assertGreaterEqual(len(clients["hosts"]), 2)
        defined = set(inventory["all"]["vars"]) | set(clients["vars"]) | {"synwave_clients"}
        for host in clients["hosts"].values():
            self.assertIn("synwave_ip", host)
            defined |= set(host)
        for play in plays:
            defined |= set(play.get("vars", {}))
            for task in play["tasks"]:
                defined |= set(task.get("ansible.builtin.set_fact", {}))
                if "register" in task:
                    defined.add(task["register"])
        used = set(re.findall(r"\bsynwave_\w+", text))
        self.assertEqual(used - defined, set(), "variables the playbook uses but neither it nor the inventory defines")
        start = next(t for p in plays for t in p["tasks"] if "ansible.builtin.command" in t)
        argv = start["ansible.builtin.command"]["argv"]
        for flag in ("'--'", "'client'", "'--shard'", "'--start-at'", "'--metrics'", "'--run-id'", "'--report'"):
            self.assertIn(flag, argv)

    def test_kubernetes_indexed_job(self):
        docs = list(yaml.safe_load_all(read("config", "kubernetes", "synwave-client-job.yml")))
        job = next(d for d in docs if d["kind"] == "Job")
        spec = job["spec"]
        self.assertEqual(spec["completionMode"], "Indexed")
        container = spec["template"]["spec"]["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        self.assertEqual(spec["completions"], int(env["SHARDS"]["value"]))
        self.assertEqual(spec["parallelism"], spec["completions"])
        command = " ".join(container["args"])
        for word in ("--shard \"$JOB_COMPLETION_INDEX/$SHARDS\"", "--start-at", "--metrics 0.0.0.0:9100", "--run-id",
                     "--report", "-- client"):
            self.assertIn(word, command)
        self.assertEqual(container["ports"][0]["containerPort"], 9100)

    def test_kubernetes_configmap_holds_client_options(self):
        configmap = yaml.safe_load(read("config", "kubernetes", "synwave-configmap.yml"))
        options = read("src", "app", "options.cpp")
        toml = tomllib.loads(configmap["data"]["client.toml"])
        self.assertIn("dst", toml)
        for key in toml:
            self.assertIn(f'"--{key.replace("_", "-")}"', options, f"client.toml key {key} is no option")

    def test_prometheus_four_targets(self):
        config = yaml.safe_load(read("config", "prometheus.yml"))
        targets = [t for job in config["scrape_configs"] for s in job.get("static_configs", []) for t in s["targets"]]
        self.assertEqual(len(targets), 4)
        self.assertTrue(all(t.endswith(":9100") for t in targets))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
