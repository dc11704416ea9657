"""Cheap heuristics that recognise values that are not real credentials, so they are never reported.

Three families, in order of reach:
- every rule: placeholders and published example keys, references to a secret held elsewhere
  (environment lookups, templates, vault / SSM / Secrets Manager references, SOPS values);
- rules tagged ``generic`` (free-form values after a key name): also values that are evidently
  something else (hashes, integrity strings, digests, paths, URLs, e-mail addresses, code), and key
  names that say the value is an identifier, a size or a public value rather than a secret.
Provider rules with strong prefixes only see the first family, so a filter cannot kill them.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from urllib.parse import unquote

from .checksums import basic_auth_parts
from .lazyregex import LazyPattern as _lazy
from .model import Finding, Kind, Rule
from .published import PUBLISHED_EXAMPLES

GENERIC_TAG = "generic"

_PLACEHOLDER_WORDS = _lazy(
    r"(?i)(?:your|insert|enter|replace|put)[_\s.-]*(?:an?[_\s.-]*)?(?:own[_\s.-]*)?(?:api[_\s.-]*)?(?:access[_\s.-]*)?"
    r"(?:key|token|secret|pass(?:word)?|pwd|credential|client)"
    r"|change[_.-]?me|changeit|placeholder|redacted|example|dummy|sample[_-]?(?:key|token|secret|pass)"
    r"|x{5,}|\*{3,}|\.{3,}|#{5,}|insert[_-]?here|replace[_-]?me"
    r"|not[_-]?(?:a|the)[_-]?(?:real|secret|token|key|password)|do[_-]?not[_-]?use|fake[_-]?(?:key|token|secret|pass)|unique phrase"
    r"|^my-[\w-]*(?:password|token|secret|key)$|xmpl"  # my-Bitbucket-password; AWS docs mark example ids with "xmpl"
)
# Whole values that documentation and tests use instead of a secret.
# A run of underscores stands in for a value ("sk_live_________"), unless the rest is random: base64url
# encodes a run of 0xFF bytes as underscores, so issued tokens (Heroku's HRKU-) can hold one.
_UNDERSCORE_RUN = _lazy(r"_{5,}")
_PLACEHOLDER_VALUES = frozenset(
    """password passwd pass pwd token apikey api_key api-key key value null none nil
    undefined true false empty string test testing tester user username default changeme changeit
    abcdef abcd1234 foobar foo bar baz yourpassword password1 password123 your-password your_password
    xxx yyy zzz todo tbd fixme required optional hidden masked omitted n/a na sometoken somepassword
    some_password some_token anonymous""".split()
)
# Too common in documentation to report after a bare key name (they are kept in URIs and connection
# strings, where the structure says more).
_GENERIC_PLACEHOLDER_VALUES = frozenset(
    {"secret", "secrets", "mysecret", "supersecret", "s3cr3t", "field", "parameter", "argument", "option", "flag"}
)
# jwt.io's sample token: its payload segment identifies it whatever the signature.
_JWT_IO_PAYLOAD = "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"

_SEQUENCES = ("0123456789", "1234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zyxwvutsrq")
_SEQUENCE_GRAMS = frozenset(seq[i : i + 7] for seq in _SEQUENCES for i in range(len(seq) - 6))
# Inside any value, of any rule: a run of ten letters of the alphabet or of a keyboard row is typed by a
# person ("sk-ant-...-klmnopqrstuvwx-..."). In a random token of 62 symbols a given 10-letter run turns up
# about once in 62**9 positions. Digit runs are left to the generic rules: provider formats that are all
# digits or hex make counting a weaker sign there.
_RUN = 10
_RUNS = ("abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba", "qwertyuiop", "poiuytrewq")
_RUN_GRAMS = frozenset(seq[i : i + _RUN] for seq in _RUNS for i in range(len(seq) - _RUN + 1))
# What FTP clients send as the password of an anonymous login: an e-mail-like identity such as
# "busybox@" or "-wget@" (RFC 1635), not a secret.
_ANONYMOUS_FTP_PASSWORD = _lazy(r"-?[a-z][a-z0-9.-]*@")
# Key names that name one provider's credential, with the shape the provider documents for it. A
# value of another shape under such a name is not that credential (a placeholder, a truncated or
# padded copy); the provider's own rule reports the values that fit.
_PROVIDER_KEY_SHAPES = (
    # AWS secret access keys are 40 characters of base64 (the IAM user guide's example key).
    (_lazy(r"(?i)aws.?secret.?(?:access.?)?key"), _lazy(r"[A-Za-z0-9/+]{40}")),
    # Meraki dashboard API keys are 40-character hex strings (developer.cisco.com/meraki/api-v1/authorization),
    # printed in one case.
    (_lazy(r"(?i)meraki"), _lazy(r"[0-9a-f]{40}|[0-9A-F]{40}")),
)

# A value that names where the secret lives instead of being it.
_REFERENCE = _lazy(
    r"^(?:\$[A-Za-z_][\w.]*$|\$[{(]|%[A-Za-z_][\w.]*%$|@[A-Z][A-Z0-9_]*@?$|@Microsoft\.KeyVault\(|!(?:Ref|Sub|GetAtt)\b"
    r"|(?:vault|ssm|secretsmanager|sm|env|op|ref\+\w+|awssm|azkv|gcpsm|k8s|secret|file)://"
    r"|(?:vault|ssm|env|secret|sops|awskms|gcpkms):[A-Za-z/_{])"
    r"|\$\{|\$\(|\{\{|\{%|#\{|<%=|%\(\w+\)[sd]|\bENC\[|\bprocess\.env\b|\bos\.environ\b|\bgetenv\b",
    re.IGNORECASE,
)
# The ARN of a secret, parameter or key names where a credential is kept: a reference where a secret is
# expected, but the identifier itself for an identifier rule.
_SECRET_STORE_ARN = _lazy(r"arn:aws[\w-]*:(?:secretsmanager|ssm|kms):", re.IGNORECASE)
# What sits right before a value that is read from the environment or a secret store.
_LOOKUP_BEFORE = _lazy(
    r"(?:getenv|environ(?:\.get)?|env(?:\.fetch)?|ENV(?:\.fetch)?|System\.getenv|Environment\.GetEnvironmentVariable"
    r"|os\.Getenv|LookupEnv|secretKeyRef|valueFrom|config\.get|settings\.get)\s*[(\[]?\s*[\"']?\s*$"
)

_INTERLEAVED = _lazy(r"a1b2c3|1a2b3c")
_REPEATED_GROUP = _lazy(r"(\w{3,})[-_.:]\1[-_.:]\1")
# self.password, tokenize.OP:, package.module:Object (an entry point)
_DOTTED_CODE = _lazy(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+(?:\(\)|:[A-Za-z_]\w*)?[:;,]?")
# Words joined by separators, with short numbered parts: lexer token names such as markup.heading.1 or
# variable-2 (ace, CodeMirror) number their levels.
_SLUG = _lazy(r"[a-z]+(?:[-_.](?:[a-z]+|\d{1,3}))+")
# ... a||b, a&&b, a?b:c: minified expressions; .*: a regular expression
_CODE_VALUE = _lazy(
    r"^\$[A-Za-z_]|^\+\s*\w|\($|^\.\$|\$[A-Za-z_]\w*\[|\d+\.\d+\.\d+|^arn:|\w\|\|\w|\w&&\w|[A-Za-z]\(\w+=$"
    r"|^[A-Za-z_$][\w$.]*\?[A-Za-z_$][\w$.]*:[A-Za-z_$][\w$.]*$"
    r"|\.\*"  # a regular expression's wildcard: sed -e "s/SECRET_KEY = .*/.../"
)
_UNQUOTED_INTERPOLATION = _lazy(r"\$[A-Za-z_{(]")
_HEX = _lazy(r"^[0-9a-fA-F]+$")
_UUID = _lazy(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NOT_SECRET_VALUE = _lazy(
    r"^(?:sha(?:1|224|256|384|512)-[A-Za-z0-9+/]{20,}={0,2}$"  # SRI / npm lockfile integrity
    r"|(?:sha1|sha256|sha512|md5):[0-9a-fA-F]{32,}$"  # image and content digests
    r"|h1:[A-Za-z0-9+/]{40,}=*$"  # go.sum
    r"|data:(?:image|font|application/(?:font|x-font))[/\w+.-]*[;,]"  # inline images and fonts
    r"|[a-z][a-z0-9+.-]*://(?![^/\s]*@)"  # URLs without credentials
    r"|https?:(?!//)"  # a mangled link (https:https://github.com/...)
    r"|(?i:true|false|yes|no|on|off|none|null)(?:\|(?i:true|false|yes|no|on|off|none|null))+$"  # True|False choices
    r"|\d{4}_[a-z][a-z0-9_]*$"  # a Django / Alembic migration name: ('secrets', '0002_userkey_add_session_key')
    r"|(?:\.{0,2}/|~/|[A-Za-z]:\\|\\\\)"  # file paths
    r"|[\w.+-]+@[\w-]+\.[\w.-]+$"  # e-mail addresses
    r"|[\w./-]+\.(?:pem|crt|cer|key|p12|pfx|jks|keystore|keytab|json|ya?ml|xml|txt|ini|conf|cfg|env|properties|pub|der|csr|gpg|asc|js|py|rb|go|sh|html?|css|png|jpe?g|svg|md|rst)$"
    r"|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+:?$"  # CONSTANT_NAMES: a variable, not its value
    r"|(?:[A-Z]+-)+(?:TOKEN|KEY|SECRET|PASSWORD)$"  # OAUTH-TOKEN, API-KEY: a name standing in for the value
    r"|[\w.-]+/\d{8}/[\w-]+/[\w-]+/aws4_request\b"  # an AWS SigV4 credential scope (X-Amz-Credential without its key)
    r"|--?[A-Za-z][\w-]*$"  # a command-line option name: add_argument('--token', '--api-key')
    r"|[A-Za-z][A-Za-z_.-]*/$"  # a directory name: 'credentials/' + client
    r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"  # a timestamp: tokenExpirationTime
    r"|-----BEGIN (?:CERTIFICATE|PUBLIC KEY|RSA PUBLIC KEY|PGP PUBLIC KEY)"
    r"|ssh-(?:rsa|ed25519|dss) AAAA|ecdsa-sha2-nistp\d+ AAAA"
    r")"
)
# Key names whose value is an identifier, a setting or public, not a secret (normalised: lower case,
# no separators). Matched as suffixes, e.g. kms_key_id, access_token_url, secret_length.
_KEY_SUFFIX_DENY = tuple(
    """id ids uuid guid name names url uri urls endpoint host hostname file filename filepath path dir type
    types length len size ttl timeout expiry expires expiresat expiresin expiration version format
    header prefix suffix count field fields label hint placeholder regex pattern mode enabled required
    policy method algorithm alg scheme store ref provider class arn region var variable param parameter
    index flag option attr attribute selector location secretname keyname template min max minlength
    maxlength validator validation error errors message text title description source mgr manager
    handler realm factory time timestamp""".split()
)  # str.endswith: as a regex alternation this took 4 ms of the start to compile
_KEY_CONTAINS_DENY = _lazy(
    # authenticity_token: the Rails name of the per-session CSRF token in every form of a saved page.
    r"public|publishable|vault|csrf|xsrf|authenticity|hash|checksum|digest|integrity|fingerprint|sha1|sha256|md5|cache"
    r"|page|cursor|tokenizer|tokenize|tokentype|reset|forgot|confirm|policy|strength|hint|prompt|label"
    r"|input|field|form|column|button|dialog|regex|pattern|validat"
    # API bookkeeping tokens: pagination, optimistic locking, idempotency, cancellation (AWS NextToken,
    # LockToken, ClientRequestToken...): handles a service gives back, not credentials.
    r"|next(?:forward|backward|sequence|page|lock)?token|(?:continuation|pagination|starting|sequence|change"
    r"|lock|idempotency|clientrequest|lifecycleaction|workunit|cancel|cancellation|sync)token"
)
# Keys whose value is an idempotency key when it is a UUID (AWS ClientToken / RequestToken); elsewhere a
# client token can be a credential (Vault), so the value's shape decides.
_IDEMPOTENCY_KEY = _lazy(r"(?:client|request)token$")
# Settings that say when or whether a password is used, under a password key (update_password: always).
_SETTING_VALUES = frozenset(
    "always never on_create on_change on_failure on_success auto prompt ask inherit ignore".split()
)
# Type names documented for an option or field (traitlets' `NotebookApp.password : Unicode`).
_TYPE_NAMES = frozenset("unicode cunicode bytes bool boolean int integer float dict list tuple secretstr".split())
# A translation table keyed by the English label: "Password": "Senha" (swagger-ui's lang/*.js).
_LABEL_KEY = _lazy(r"Password|Passphrase|Token|Secret")
_LABEL_WORD = _lazy(r"[A-Z][a-z]+")
# Key-name parts that make a bare number a size, limit or flag (NSS_BUFLEN_PASSWD = 1024).
_NUMERIC_KEY_PARTS = frozenset(
    "buflen len length size max min flag flags uf dont expire expires timeout ttl count retries attempts bits".split()
)
_KEY_PARTS = _lazy(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_DECLARATION = r"\b(?:class|struct|interface|enum|record|trait)\s+"
_POWERSHELL_FILE = _lazy(r"(?i)\.ps(?:m|d)?1$")
_CMDLET = _lazy(r"[A-Z][a-z]+-[A-Z][A-Za-z]+")
_CAMEL_WORDS = _lazy(r"[A-Za-z][a-z]+(?:[A-Z][a-z]+)+")
_FORMAT_STRING = _lazy(r"%[sdr]|\{\d*\}|\{[a-z_]+\}")
_IDENTIFIER = _lazy(r"[A-Za-z_][A-Za-z0-9_]*")
_CODE_FILE = _lazy(r"(?i)\.(?:py|pyi|js|jsx|mjs|cjs|ts|tsx|go|java|kt|kts|scala|rb|php|cs|c|h|cc|cpp|hpp|rs|swift|m|mm|lua|pl|pm|groovy|dart|r|jl)$")
_PASSWORD_KEY = _lazy(r"(?i)pass|pwd")
_KEY_TOKEN = _lazy(r"[A-Za-z_][\w.-]*")
_KEY_WORD = _lazy(r"(?i)pass|pwd|pw|secret|token|key|auth|credential")
_COMPARISON_BEFORE = _lazy(r"[!=]==?\s*[\"'`]$")
_SECRET_FIELD = _lazy(r"(?i)(?:secret|password|passwd|passphrase|token|api[_-]?key)$")
# A lexer's current token compared with a token type name (`token == 'linestatement_begin'`): tokenizers call
# their variable plain `token`; a credential check reads a field (`req.query.token`, `creds.Secret`).
_SNAKE_NAME = _lazy(r"[a-z]+(?:_[a-z]+)+")
# "pass" the test outcome, not a password: `{"pass": "fail"}[result]`, `{'mt-pass': 'mt-fail'}` (qunit, CodeMirror).
_PASS_OUTCOME_KEY = _lazy(r"(?i)(?:^|[-_.])pass(?:ed)?$")
# "pass" the verb: jinja's `pass_arg == "environment"` says which argument a function is passed.
_PASS_VERB_KEY = _lazy(r"(?i)(?:^|[_.-])pass[_-]?(?:args?|arguments?|kwargs|through|thru|fds|context|ctx|along)$")
_FAIL_OUTCOME = _lazy(r"(?i)(?:^|[-_.])(?:fail(?:ed|ure|s)?|error|skip(?:ped)?|xfail)$")
# `cond ? 'password' : 'text'`: the quoted word before the colon is one branch of a conditional, not a key.
_TERNARY_BRANCH_BEFORE = _lazy(r"\?\s*[\"'`]$")
# `can_change = 'frozenpassword' not in privileges`: the literal is looked up in a collection, not assigned.
_MEMBERSHIP_AFTER = _lazy(r"\s+(?:not\s+)?in\s")
# Stylesheet maps of icon names to code points ("onepassword": F880) in icon-font variables.
_STYLESHEET = _lazy(r"(?i)\.(?:s?css|sass|less|styl)$")
_DOTTED_IDENTIFIER = _lazy(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def is_placeholder(secret: str, rule: Rule, *, match: str = "", line: str = "", path: str = "") -> bool:
    """True when the value is evidently not a real credential (see the module docstring)."""
    return rejection(secret, rule, match=match, line=line, path=path) is not None


def rejection(secret: str, rule: Rule, *, match: str = "", line: str = "", path: str = "") -> str | None:
    """Why the value is not a credential, or None when it may be one. Never includes the value."""
    if secret in PUBLISHED_EXAMPLES or _JWT_IO_PAYLOAD in secret:
        return "published example"
    if _is_placeholder_value(secret) or "%" in secret and _is_placeholder_value(unquote(secret)):
        return "placeholder"  # %7BENCODED_PASSWORD%7D is {ENCODED_PASSWORD} in a URL's userinfo
    if _REFERENCE.search(secret) or rule.kind is Kind.SECRET and _SECRET_STORE_ARN.match(secret):
        return "reference"
    if _has_counting_run(secret.lower()):
        return "placeholder"
    if line and secret:
        at = line.find(secret)
        if at > 0 and _LOOKUP_BEFORE.search(line, max(0, at - 48), at):
            return "reference"
    if "%" in secret and sum(ch.isalnum() for ch in _percent_decoded(secret)) < 4:
        return "not a secret value"  # escaped punctuation or emoji in a URL's userinfo (URL-parser test data)
    if GENERIC_TAG in rule.tags:
        return _generic_rejection(secret, match, line, path, rule.id)
    return None


def _is_placeholder_value(secret: str) -> bool:
    lowered = secret.lower()
    # [:password]@host is the optional-password notation of a URL template
    if lowered.strip("\"'`[]") in _PLACEHOLDER_VALUES:
        return True
    if len(secret) >= 4 and len(set(lowered)) <= 2:
        return True
    if secret[:1] in "<[{" and secret[-1:] in ">]}" or secret.endswith(">"):
        return True
    if _UNDERSCORE_RUN.search(secret) and not _random_looking(_UNDERSCORE_RUN.sub("", secret)):
        return True
    return _PLACEHOLDER_WORDS.search(secret) is not None


def _has_counting_run(lowered: str) -> bool:
    """A run of ten or more letters in alphabet or keyboard order ("fghijklmnop") within the value."""
    if len(lowered) < _RUN:
        return False
    return any(lowered[i : i + _RUN] in _RUN_GRAMS for i in range(len(lowered) - _RUN + 1))


def _is_sequence_or_repetition(lowered: str) -> bool:
    alnum = "".join(ch for ch in lowered if ch.isalnum())
    if len(alnum) < 8:
        return False
    # Keyboard walks and counting: "1234567890abcdef", "abcdefghij" (any 7 characters of one).
    if any(alnum[i : i + 7] in _SEQUENCE_GRAMS for i in range(len(alnum) - 6)):
        return True
    if _INTERLEAVED.search(lowered) or _REPEATED_GROUP.search(lowered):
        return True
    # A short unit repeated: "abcabcabcabc", "12121212".
    for unit in range(1, 5):
        if len(alnum) >= unit * 4 and alnum == (alnum[:unit] * (len(alnum) // unit + 1))[: len(alnum)]:
            return True
    return False


def _generic_rejection(secret: str, match: str, line: str, path: str, rule_id: str = "") -> str | None:
    """Generic rules only: sequences, non-secret shapes, code, and key names that are not secrets."""
    if secret != secret.strip() or _FORMAT_STRING.search(secret) and not _random_looking(secret):
        return "not a secret value"
    lowered = secret.lower()
    if _is_sequence_or_repetition(lowered) or lowered in _GENERIC_PLACEHOLDER_VALUES:
        return "placeholder"
    if _ANONYMOUS_FTP_PASSWORD.fullmatch(secret):
        return "placeholder"
    if _NOT_SECRET_VALUE.match(secret) or _CODE_VALUE.search(secret):
        return "not a secret value"
    if _STYLESHEET.search(path) and len(secret) <= 6 and _HEX.match(secret):
        return "not a secret value"
    key = _key_name(secret, match, line)
    if secret.lower() in _SETTING_VALUES:
        return "setting"
    if secret.lower() in _TYPE_NAMES:
        return "type name"
    if _LABEL_KEY.fullmatch(key) and _LABEL_WORD.fullmatch(secret):
        return "translated label"
    if _describes_no_credential(secret, match, key, line):
        return "not a secret value"
    if (_SLUG.fullmatch(secret) or _CAMEL_WORDS.fullmatch(secret)) and not _PASSWORD_KEY.search(key) and len(key) > 2 \
            and not _checks_against_literal(secret, match, key):
        return "identifier"  # words joined by '-', '_', '.' or camel case: a name (passwords may be words)
    if key and secret.lower() in (key.lower(), key.rsplit(".", 1)[-1].lower()):
        return "identifier"  # "pass_through": pass_through, self.passwords = passwords
    word = secret.lstrip("#_")  # '#ansiyellow', '#bygroup': a colour or anchor name; '_contextvars': a module
    if rule_id.startswith("generic-secret") and word.isalpha() and word.islower() and not _PASSWORD_KEY.search(key):
        return "word"  # "ansibrightgreen" after a token/secret key: tokens have digits or mixed case
    if sum(ch.isalnum() for ch in _percent_decoded(secret)) < 4:
        return "not a secret value"  # punctuation and escapes (URL-parser test data), not a credential
    if _DOTTED_CODE.fullmatch(secret) and sum(c.isdigit() for c in secret) * 10 < len(secret):
        return "code"
    at = match.rfind(secret)  # the value follows its key, which may have the same name
    unquoted = at > 0 and match[at - 1] not in "\"'`"
    if unquoted and _CODE_FILE.search(path) and _DOTTED_IDENTIFIER.fullmatch(secret.rstrip(":;,")):
        # an unquoted name in source code is a variable (`== session_token:`) or a type annotation
        # (`private_key: ed25519.Ed25519PrivateKey`), not a literal value
        return "code"
    if unquoted and _POWERSHELL_FILE.search(path) and _CMDLET.fullmatch(secret):
        return "code"  # a cmdlet call such as New-Object assigned to a PowerShell variable
    if unquoted:
        if "=" in secret.rstrip("="):
            return "not a secret value"  # key=value pairs, query strings: base64 only pads at the end
        if _UNQUOTED_INTERPOLATION.search(secret):
            return "reference"  # unquoted shell / Makefile value: $NAME is interpolated
    if secret.count(" ") >= 2 or _is_natural_language(secret):
        return "prose"
    if key:
        norm = re.sub(r"[^a-z0-9]", "", key.lower())
        if norm.endswith(_KEY_SUFFIX_DENY) or _KEY_CONTAINS_DENY.search(norm):
            return "key name"
        if any(name.search(key) and not shape.fullmatch(secret) for name, shape in _PROVIDER_KEY_SHAPES):
            return "not the named credential"
        stem = _key_stem(key)
        if stem and _looks_like_identifier_naming(secret, stem):
            return "identifier"
    if len(secret) >= 32 and _HEX.match(secret) and not key:
        return "hash"
    return None


def _checks_against_literal(secret: str, match: str, key: str) -> bool:
    """A secret field compared with a quoted literal (`creds.Secret != <literal>`) is a hard-coded credential
    check, and the literal is the credential whatever it looks like (a name-like value is still the one
    that opens the door). Comparing two names (`a == b`) never reaches here: the value is quoted."""
    before = match[: match.rfind(secret)]
    if key.lower() == "token" and _SNAKE_NAME.fullmatch(secret):
        return False
    return bool(_COMPARISON_BEFORE.search(before)) and _SECRET_FIELD.search(key) is not None


def _describes_no_credential(secret: str, match: str, key: str, line: str) -> bool:
    """Shapes that the key and its surroundings say are not credentials: an HTTP Basic value for a
    placeholder user with no password, a Digest header's parameter name, a UUID idempotency key, a size
    or flag number, a class declaration (class AccessToken : IDisposable), code around the value."""
    before = match[: match.rfind(secret)].lower()
    parts = basic_auth_parts(secret) if before.rstrip().endswith("basic") else None
    if parts is not None and not parts[1] and _is_placeholder_value(parts[0]):
        # "user:" is nothing; an API key as the user name with no password (curl -u KEY:) is a credential
        return True
    if before.rstrip().endswith("digest") and secret.endswith("=") and secret[:-1].isalpha():
        return True
    if _is_code_around(secret, before, match, key, line):
        return True
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    if _IDEMPOTENCY_KEY.search(norm) and is_uuid(secret):
        return True
    if secret.isdigit() and any(part.lower() in _NUMERIC_KEY_PARTS for part in _KEY_PARTS.findall(key)):
        return True
    return bool(key) and re.search(_DECLARATION + re.escape(key) + r"\b", line) is not None


def _is_code_around(secret: str, before: str, match: str, key: str, line: str) -> bool:
    """Code that only looks like `key: value`: a scope operator, a test outcome under a "pass" key, a word
    under "pass" the verb (pass_arg), the branches of a conditional expression, a membership test."""
    if secret[:1] == ":" and before.endswith(":"):
        return True  # `Class::member` (a scope operator, a pytest node id)
    if _PASS_OUTCOME_KEY.search(key) and _FAIL_OUTCOME.search(secret):
        return True
    if _PASS_VERB_KEY.search(key) and secret.isalpha() and secret.islower():
        return True
    at = line.find(match) if match else -1
    if at >= 0 and _MEMBERSHIP_AFTER.match(line, at + len(match)):
        return True
    return at > 0 and _TERNARY_BRANCH_BEFORE.search(line, max(0, at - 8), at) is not None


def _is_natural_language(value: str) -> bool:
    """Text in a natural language with letters beyond ASCII: a translated label ("Contraseña", "Пароль",
    "პაროლი") or a comment in Chinese. Issued tokens are ASCII; a word without digits that is capitalised or
    has no Latin letter at all is a label ("schlüssel" may be a password)."""
    if value.isascii() or any(ch.isdigit() for ch in value):
        return False
    first = next((ch for ch in value if ch.isalpha()), "")
    latin = any(ch.isascii() and ch.isalpha() for ch in value)
    return (not first.islower() or not latin) and any(not ch.isascii() and ch.isalpha() for ch in value)


def _random_looking(value: str) -> bool:
    """Long and high-entropy: '%r' or '{0}' inside such a value is chance, not a format placeholder."""
    if len(value) < 24:
        return False
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= 4.5


def _key_name(secret: str, match: str, line: str) -> str:
    """The key the value is assigned to: the last name before the value that looks like a key. Read
    from the line, since a rule's match may start inside the name (at its keyword)."""
    at = line.rfind(secret) if line else -1  # the value follows its key: `"pass": pass` names the second
    if at >= 0:
        prefix = line[max(0, at - 200) : at]
    else:
        at = match.find(secret)
        prefix = match[:at] if at >= 0 else match
    tokens: list[str] = _KEY_TOKEN.findall(prefix)
    for token in reversed(tokens):
        if _KEY_WORD.search(token):
            return token
    return tokens[-1] if tokens else ""


def _key_stem(key: str) -> str:
    """The key word that starts a part of the key: 'pass' in 'oauth-password' (whose 'auth' is inside a
    word), else the first key word."""
    stems = list(_KEY_WORD.finditer(key))
    for m in stems:
        at = m.start()
        if at == 0 or not key[at - 1].isalpha() or key[at - 1].islower() and key[at].isupper():
            return m.group().lower()
    return stems[0].group().lower() if stems else ""


def _percent_decoded(value: str) -> str:
    return re.sub(r"%[0-9A-Fa-f]{2}", "", value) if "%" in value else value


def _looks_like_identifier_naming(secret: str, stem: str) -> bool:
    """'db_password', 'passwordInput', '#add-password': names that contain the key word itself."""
    lowered = secret.lower()
    if stem not in lowered:
        return False
    return re.fullmatch(r"[#._]?[a-z][a-z0-9]*(?:[_.-][a-z0-9]+)+|[a-z]+[A-Z][A-Za-z0-9]*", secret) is not None or (
        lowered.startswith(stem) and secret[len(stem) :][:1].isupper()
    )


def is_uuid(value: str) -> bool:
    return _UUID.match(value) is not None


def prefer_specific(findings: list[Finding]) -> list[Finding]:
    """Drop generic findings whose secret overlaps one a provider or structure rule found: the
    specific rule already reports it, with a better description and confidence."""
    specific = [f for f in findings if GENERIC_TAG not in f.tags]
    if not specific or len(specific) == len(findings):
        return findings
    return [f for f in findings if GENERIC_TAG not in f.tags or not any(_overlaps(f, s) for s in specific)]


def _overlaps(a: Finding, b: Finding) -> bool:
    return (a.line, a.column) < (b.end_line, b.end_column) and (b.line, b.column) < (a.end_line, a.end_column)
