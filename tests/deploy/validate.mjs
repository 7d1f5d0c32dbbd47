// tests/deploy/validate.mjs - offline checks of deploy/ (called by check.sh).
//
//   node validate.mjs kubernetes FILE|DIR...  every YAML document against the
//       Kubernetes API schema of its apiVersion/kind (kubernetes-models: the
//       OpenAPI definitions compiled to ajv validators: types, required
//       fields, enums, int-or-string, quantities); a directory also gets the
//       project's policy checks (three replicas, probes, security contexts,
//       names that refer to each other, placeholders-only Secret, ...).
//   node validate.mjs containerfile FILE  the Dockerfile validator of
//       dockerfile-utils (syntax, flags, ports, durations), then the policy:
//       multi-stage from Debian 12, numeric non-root USER, HEALTHCHECK,
//       EXPOSE, the binary copied from the build stage, no secrets.
//   node validate.mjs containerfile-packages FILE  per stage, the Debian
//       packages its RUN lines install with apt-get.
//   node validate.mjs config-from DIR OUT  write the ConfigMap's
//       carbonsched.json to OUT (check.sh feeds it to the real config parser).
//
// Prints one line per problem ("FILE: [doc N kind/name] path: message") and
// exits 1 when there is any, 0 otherwise.  The schemas do not reject
// unknown fields (like kubeconform without -strict): the policy checks
// catch a misspelt key where it matters.
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { validate as dockerfileValidate } from "dockerfile-utils";
import { DockerfileParser } from "dockerfile-ast";

const problems = [];
const problem = (where, msg) => problems.push(`${where}: ${msg}`);

// --- Kubernetes ----------------------------------------------------------

// apiVersion "apps/v1" -> kubernetes-models/apps/v1/KIND; core "v1" -> v1/KIND.
async function modelFor(apiVersion, kind) {
	if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z]+$/.test(kind))
		return null;
	try {
		const mod = await import(`kubernetes-models/${apiVersion}/${kind}`);
		return mod[kind] ?? null;
	} catch {
		return null;
	}
}

function yamlFiles(path) {
	if (!statSync(path).isDirectory()) return [path];
	return readdirSync(path)
		.filter((f) => /\.ya?ml$/.test(f))
		.sort()
		.map((f) => join(path, f));
}

// Parse every document of every file; schema-check the Kubernetes objects.
async function loadAndValidate(files) {
	const objects = [];
	for (const file of files) {
		const docs = parseAllDocuments(readFileSync(file, "utf8"));
		for (const [i, doc] of docs.entries()) {
			const where = `${file}: [doc ${i + 1}]`;
			if (doc.errors.length) {
				for (const e of doc.errors) problem(where, `YAML: ${e.message.split("\n")[0]}`);
				continue;
			}
			const obj = doc.toJS();
			if (obj === null || obj === undefined) continue;
			if (basename(file) === "kustomization.yaml") {
				objects.push({ file, where, obj });
				continue;
			}
			if (typeof obj !== "object" || Array.isArray(obj)) {
				problem(where, "not a Kubernetes object (a mapping with apiVersion and kind)");
				continue;
			}
			const id = `${where} ${obj.kind}/${obj.metadata?.name}`;
			const Model = await modelFor(String(obj.apiVersion), String(obj.kind));
			if (!Model) {
				problem(id, `unknown apiVersion/kind ${obj.apiVersion}/${obj.kind}`);
				continue;
			}
			try {
				new Model(obj).validate();
			} catch (e) {
				for (const line of String(e.message).split(/, (?=data)/)) problem(id, line);
				continue;
			}
			objects.push({ file, where: id, obj });
		}
	}
	return objects;
}

const get = (o, path) => path.split(".").reduce((v, k) => (v == null ? undefined : v[k]), o);
const sameLabels = (a, b) => a && b && Object.entries(a).every(([k, v]) => b[k] === v);

function expect(where, cond, msg) {
	if (!cond) problem(where, msg);
}

// Checks of the hardening every pod template must have.
function checkPod(where, spec) {
	const psc = spec.securityContext ?? {};
	expect(where, psc.runAsNonRoot === true, "pod securityContext.runAsNonRoot must be true");
	expect(where, Number.isInteger(psc.runAsUser) && psc.runAsUser > 0, "pod securityContext.runAsUser: a non-root uid");
	expect(where, psc.seccompProfile?.type === "RuntimeDefault", "pod seccompProfile.type must be RuntimeDefault");
	expect(where, spec.automountServiceAccountToken === false, "automountServiceAccountToken must be false");
	for (const c of spec.containers ?? []) {
		const w = `${where} container ${c.name}`;
		const sc = c.securityContext ?? {};
		expect(w, sc.readOnlyRootFilesystem === true, "securityContext.readOnlyRootFilesystem must be true");
		expect(w, sc.allowPrivilegeEscalation === false, "securityContext.allowPrivilegeEscalation must be false");
		expect(w, JSON.stringify(sc.capabilities?.drop) === '["ALL"]', "securityContext.capabilities.drop must be [ALL]");
		expect(w, !sc.capabilities?.add?.length, "no capabilities may be added");
		expect(w, c.resources?.requests?.cpu && c.resources?.requests?.memory, "resources.requests cpu and memory");
		expect(w, c.resources?.limits?.memory, "resources.limits.memory");
	}
}

function configOf(cm) {
	try {
		return JSON.parse(cm.obj.data?.["carbonsched.json"]);
	} catch {
		return null;
	}
}

// The project's policy over the whole directory.
function policy(dir, objects) {
	const byKind = (k) => objects.filter((o) => o.obj.kind === k);
	const one = (k) => {
		const list = byKind(k);
		if (list.length !== 1) problem(dir, `expected one ${k}, found ${list.length}`);
		return list[0];
	};
	const dep = one("Deployment"), svc = one("Service"), pdb = one("PodDisruptionBudget");
	const cm = one("ConfigMap"), secret = one("Secret"), cron = one("CronJob"), kust = one("Kustomization");
	if (!dep || !svc || !pdb || !cm || !secret || !cron || !kust) return;

	// Deployment
	const d = dep.obj, w = dep.where, pod = d.spec.template.spec;
	expect(w, d.spec.replicas === 3, `spec.replicas must be 3, is ${d.spec.replicas}`);
	expect(w, sameLabels(d.spec.selector.matchLabels, d.spec.template.metadata?.labels), "selector must match the template's labels");
	expect(w, d.spec.strategy?.rollingUpdate?.maxUnavailable === 0, "rollingUpdate.maxUnavailable must be 0");
	checkPod(w, pod);
	expect(w, (pod.topologySpreadConstraints ?? []).some((t) => t.topologyKey === "kubernetes.io/hostname"), "topologySpreadConstraints over kubernetes.io/hostname");
	expect(w, (pod.topologySpreadConstraints ?? []).some((t) => t.topologyKey === "topology.kubernetes.io/zone"), "topologySpreadConstraints over topology.kubernetes.io/zone");
	for (const t of pod.topologySpreadConstraints ?? [])
		expect(w, sameLabels(t.labelSelector?.matchLabels, d.spec.template.metadata?.labels), `topology spread over ${t.topologyKey} must select the pods`);
	const c = pod.containers[0];
	const http = (c.ports ?? []).find((p) => p.name === "http");
	expect(w, http, "the container needs a port named http");
	expect(w, c.readinessProbe?.httpGet?.path === "/readyz" && c.readinessProbe?.httpGet?.port === "http", "readinessProbe: GET /readyz on port http");
	expect(w, c.livenessProbe?.httpGet?.path === "/healthz" && c.livenessProbe?.httpGet?.port === "http", "livenessProbe: GET /healthz on port http");
	expect(w, (c.envFrom ?? []).some((e) => e.secretRef?.name === secret.obj.metadata.name), `envFrom the Secret ${secret.obj.metadata.name}`);
	const cfgVol = (pod.volumes ?? []).find((v) => v.configMap);
	expect(w, cfgVol?.configMap?.name === cm.obj.metadata.name, `a volume of the ConfigMap ${cm.obj.metadata.name}`);
	const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
	const mount = (c.volumeMounts ?? []).find((m) => m.name === cfgVol?.name);
	expect(w, mount && env.CARBONSCHED_CONFIG === `${mount.mountPath}/carbonsched.json`, "CARBONSCHED_CONFIG must name carbonsched.json in the ConfigMap's mount");
	// The pod's grace must cover the preStop sleep, the service's shutdown_grace and a margin.
	const sleep = Number(c.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
	const m = /^PT([0-9]+)S$/.exec(configOf(cm)?.shutdown_grace ?? "PT10S");
	const grace = m ? Number(m[1]) : NaN;
	expect(w, (pod.terminationGracePeriodSeconds ?? 30) >= sleep + grace + 5, `terminationGracePeriodSeconds must be at least preStop ${sleep} s + shutdown_grace ${grace} s + 5 s`);

	// Service and PodDisruptionBudget select the API pods, not the report's.
	const podLabels = d.spec.template.metadata.labels;
	expect(svc.where, sameLabels(svc.obj.spec.selector, podLabels), "selector must select the Deployment's pods");
	expect(svc.where, sameLabels({ "app.kubernetes.io/component": "api" }, svc.obj.spec.selector), "selector must name component api (the report pods are not endpoints)");
	expect(svc.where, svc.obj.spec.ports.some((p) => p.targetPort === "http" || p.targetPort === http?.containerPort), "a port targeting the container's http port");
	expect(pdb.where, sameLabels(pdb.obj.spec.selector?.matchLabels, podLabels) && sameLabels(podLabels, pdb.obj.spec.selector?.matchLabels), "selector must be the Deployment's pod labels");
	const minAv = pdb.obj.spec.minAvailable;
	expect(pdb.where, Number.isInteger(minAv) && minAv >= 1 && minAv < d.spec.replicas, "minAvailable: at least 1 and below the replicas (drains must be possible)");

	// ConfigMap: the config file, valid JSON, no secrets in it.
	const cfg = configOf(cm);
	if (!cfg) problem(cm.where, "data.carbonsched.json is missing or not JSON");
	else {
		expect(cm.where, !("database_url" in cfg), "database_url belongs in the Secret (CARBONSCHED_DATABASE_URL), not the ConfigMap");
		expect(cm.where, /^0\.0\.0\.0:|^\[::\]:/.test(cfg.listen ?? ""), "listen must be on all addresses in a pod");
		expect(cm.where, String(cfg.listen).endsWith(`:${http?.containerPort}`), "listen's port must be the container's http port");
		for (const s of cfg.sources ?? [])
			if (s.token_env) expect(cm.where, s.token_env in (secret.obj.stringData ?? {}), `source ${s.name}: its token_env ${s.token_env} must be a key of the Secret`);
	}

	// Secret: a template, placeholders only.
	const sd = secret.obj.stringData ?? {};
	expect(secret.where, !secret.obj.data, "use stringData with placeholders, never data");
	expect(secret.where, "CARBONSCHED_DATABASE_URL" in sd, "needs CARBONSCHED_DATABASE_URL");
	for (const [k, v] of Object.entries(sd)) expect(secret.where, String(v).includes("REPLACE_ME"), `${k}: a template holds placeholders (REPLACE_ME) only`);

	// CronJob: the same image, ConfigMap and Secret as the Deployment.
	const cj = cron.obj, cpod = cj.spec.jobTemplate.spec.template.spec;
	checkPod(cron.where, cpod);
	expect(cron.where, cpod.containers[0].image === c.image, `image must be the Deployment's (${c.image})`);
	expect(cron.where, (cpod.volumes ?? []).some((v) => v.configMap?.name === cm.obj.metadata.name), `mounts the ConfigMap ${cm.obj.metadata.name}`);
	expect(cron.where, (cpod.containers[0].env ?? []).some((e) => e.valueFrom?.secretKeyRef?.name === secret.obj.metadata.name && e.name === "CARBONSCHED_DATABASE_URL"), "CARBONSCHED_DATABASE_URL from the Secret");

	// NetworkPolicy: the API pods get ingress to http; egress to PostgreSQL, DNS, HTTPS.
	const nps = byKind("NetworkPolicy");
	const apiNp = nps.find((n) => sameLabels(n.obj.spec.podSelector?.matchLabels, podLabels) && sameLabels(podLabels, n.obj.spec.podSelector?.matchLabels));
	if (!apiNp) problem(dir, "no NetworkPolicy selects the Deployment's pods");
	else {
		const np = apiNp.obj.spec, nw = apiNp.where;
		expect(nw, ["Ingress", "Egress"].every((t) => (np.policyTypes ?? []).includes(t)), "policyTypes Ingress and Egress");
		const inPorts = (np.ingress ?? []).flatMap((r) => r.ports ?? []);
		expect(nw, inPorts.length && inPorts.every((p) => p.port === "http" || p.port === http?.containerPort), "ingress only to the http port");
		const outPorts = (np.egress ?? []).flatMap((r) => (r.ports ?? []).map((p) => `${p.protocol ?? "TCP"}/${p.port}`));
		for (const want of ["TCP/5432", "UDP/53", "TCP/53", "TCP/443"]) expect(nw, outPorts.includes(want), `egress ${want}`);
	}
	for (const n of nps) {
		const sel = n.obj.spec.podSelector?.matchLabels ?? {};
		expect(n.where, Object.keys(sel).length > 0, "must select pods by label (an empty selector takes the whole namespace)");
	}

	// kustomization.yaml lists exactly the other files.
	const k = kust.obj;
	expect(kust.where, k.apiVersion === "kustomize.config.k8s.io/v1beta1" && k.kind === "Kustomization", "apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization");
	const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml").sort();
	const listed = [...(k.resources ?? [])].sort();
	expect(kust.where, JSON.stringify(files) === JSON.stringify(listed), `resources must be exactly ${files.join(", ")} (are ${listed.join(", ")})`);
	for (const img of k.images ?? [])
		expect(kust.where, c.image.split(":")[0] === img.name && (!img.newTag || c.image.endsWith(`:${img.newTag}`)), `images: ${img.name}:${img.newTag} must be the manifests' image ${c.image}`);
	return cfg;
}

async function kubernetes(paths) {
	let n = 0;
	for (const path of paths) {
		const objects = await loadAndValidate(yamlFiles(path));
		n += objects.length;
		if (statSync(path).isDirectory()) policy(path, objects);
	}
	return n;
}

// --- Containerfile --------------------------------------------------------

const SECRETISH = /(TOKEN|SECRET|PASSWORD|PASSWD|DATABASE_URL|API_KEY|PRIVATE)/i;

function containerfile(file) {
	const text = readFileSync(file, "utf8");
	for (const d of dockerfileValidate(text))
		problem(`${file}:${d.range.start.line + 1}`, `${d.severity === 1 ? "error" : "warning"}: ${d.message}`);
	const df = DockerfileParser.parse(text);
	const froms = df.getFROMs();
	expect(file, froms.length >= 2, "multi-stage: a build stage and a runtime stage");
	const stages = [];
	for (const ins of df.getInstructions()) {
		const kw = ins.getKeyword();
		if (kw === "FROM") stages.push({ from: ins, ins: [] });
		else if (stages.length) stages[stages.length - 1].ins.push(ins);
		const args = ins.getArguments().map((a) => a.getValue());
		const line = `${file}:${ins.getRange().start.line + 1}`;
		if (kw === "ENV" || kw === "ARG")
			for (const a of args) expect(line, !SECRETISH.test(a.split("=")[0]), `${kw} ${a.split("=")[0]}: no secrets in the image (pass them at run time)`);
		if (kw === "COPY" || kw === "ADD")
			for (const a of args) expect(line, !/(\.env$|secret|\.pem$|\.key$)/i.test(a), `${kw} ${a}: no secrets in the image`);
	}
	for (const s of stages) {
		const img = `${s.from.getImageName()}:${s.from.getImageTag()}`;
		expect(`${file}:${s.from.getRange().start.line + 1}`, /^debian:(12|bookworm)(-slim)?$/.test(img), `FROM ${img}: Debian 12 images only`);
	}
	if (stages.length < 2) return;
	const build = stages[0], run = stages[stages.length - 1];
	const kw = (s, k) => s.ins.filter((i) => i.getKeyword() === k);
	const text1 = (i) => i.getArguments().map((a) => a.getValue()).join(" ");
	expect(file, kw(build, "RUN").some((i) => /\bmake\b/.test(text1(i))), "the build stage runs make");
	const users = kw(run, "USER");
	const user = users.length ? text1(users[users.length - 1]) : "";
	expect(file, /^[1-9][0-9]*(:[1-9][0-9]*)?$/.test(user), `the runtime stage's last USER must be a numeric non-root uid[:gid] (is '${user}')`);
	const hc = kw(run, "HEALTHCHECK");
	expect(file, hc.length === 1 && !/^NONE\b/i.test(text1(hc[0])), "the runtime stage has a HEALTHCHECK");
	expect(file, kw(run, "EXPOSE").length > 0, "the runtime stage EXPOSEs the HTTP port");
	const stageName = build.from.getBuildStage();
	expect(file, kw(run, "COPY").some((i) => i.getFlags().some((f) => f.getName() === "from" && f.getValue() === stageName) && /carbonsched/.test(text1(i))), `the binary is copied --from=${stageName}`);
	for (const i of kw(run, "RUN"))
		expect(`${file}:${i.getRange().start.line + 1}`, !/(build-essential|\S+-dev\b|gcc|\bmake\b)/.test(text1(i)), "the runtime stage installs no build tools or -dev packages");
	const ep = kw(run, "ENTRYPOINT").concat(kw(run, "CMD"));
	expect(file, ep.length > 0, "the runtime stage has an ENTRYPOINT or CMD");
}

// The Debian packages each stage's RUN lines install with apt-get, as
// "STAGE PKG PKG..." lines (check.sh compares the runtime stage's with the
// libraries the built binary links).
function containerfilePackages(file) {
	const df = DockerfileParser.parse(readFileSync(file, "utf8"));
	let stage = null;
	const lines = [];
	for (const ins of df.getInstructions()) {
		if (ins.getKeyword() === "FROM") {
			stage = { name: ins.getBuildStage() ?? `stage${lines.length}`, pkgs: [] };
			lines.push(stage);
		} else if (stage && ins.getKeyword() === "RUN") {
			const words = ins.getArguments().map((a) => a.getValue());
			for (let i = 0; i < words.length; i++) {
				if (words[i] !== "install" || words[i - 1] !== "apt-get") continue;
				for (let j = i + 1; j < words.length && !/^(&&|;|\|\|)$/.test(words[j]); j++)
					if (!words[j].startsWith("-")) stage.pkgs.push(words[j]);
			}
		}
	}
	for (const l of lines) console.log(`${l.name} ${l.pkgs.join(" ")}`);
}

// --- main ------------------------------------------------------------------

const [mode, ...args] = process.argv.slice(2);
if (mode === "kubernetes" && args.length) {
	const n = await kubernetes(args);
	const dirs = args.some((a) => statSync(a).isDirectory());
	if (!problems.length)
		console.log(`kubernetes: ${n} objects valid against the Kubernetes API schemas${dirs ? " and the policy" : ""} (${args.join(" ")})`);
} else if (mode === "containerfile" && args.length === 1) {
	containerfile(args[0]);
	if (!problems.length) console.log(`containerfile: ${args[0]} passed the Dockerfile validator and the policy`);
} else if (mode === "containerfile-packages" && args.length === 1) {
	containerfilePackages(args[0]);
} else if (mode === "config-from" && args.length === 2) {
	const objects = await loadAndValidate(yamlFiles(args[0]));
	const cm = objects.find((o) => o.obj.kind === "ConfigMap" && o.obj.data?.["carbonsched.json"]);
	if (cm) writeFileSync(args[1], cm.obj.data["carbonsched.json"]);
	else problem(args[0], "no ConfigMap with carbonsched.json");
} else {
	console.error("usage: validate.mjs kubernetes FILE|DIR... | containerfile FILE | containerfile-packages FILE | config-from DIR OUT");
	process.exit(2);
}
for (const p of problems) console.log(p);
process.exit(problems.length ? 1 : 0);
