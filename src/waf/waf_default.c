/* waf_default.c: the built-in rule set "default": SQL injection, cross-site
 * scripting, path traversal, command injection, protocol anomalies and two
 * response leaks.  Every pattern is anchored on syntax an attack needs (a quote
 * closing a string, a tag opening, a separator before a command) so words like
 * "select" or "script" in prose pass; tests/waf holds the proof. */
#include "config.h"

#include <stddef.h>

#include "waf_private.h"

const struct waf_builtin_rule waf_builtin_rules[] = {
	{ "proto-method", WAF_BLOCK, "method not allowed", {
		{ "method", NULL, "regex",
		  "^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|CONNECT)$", 1 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "proto-version", WAF_BLOCK, "HTTP version not allowed", {
		{ "version", NULL, "regex",
		  "^HTTP/1\\.[01]$", 1 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "proto-cl-te", WAF_BLOCK, "Content-Length with Transfer-Encoding (request smuggling)", {
		{ "header:content-length", NULL, "present",
		  NULL, 0 },
		{ "header:transfer-encoding", NULL, "present",
		  NULL, 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "proto-cl-many", WAF_BLOCK, "more than one Content-Length", {
		{ "header:content-length", NULL, "count_over",
		  "1", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "proto-te-bad", WAF_BLOCK, "Transfer-Encoding other than chunked", {
		{ "header:transfer-encoding", NULL, "present",
		  NULL, 0 },
		{ "header:transfer-encoding", "lower", "regex",
		  "^\\s*chunked\\s*$", 1 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "proto-host", WAF_BLOCK, "HTTP/1.1 request without Host", {
		{ "version", NULL, "equals",
		  "HTTP/1.1", 0 },
		{ "header:host", NULL, "present",
		  NULL, 1 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "proto-uri-ctl", WAF_BLOCK, "control character or space in the request-target", {
		{ "uri", NULL, "regex",
		  "[\\x00-\\x20\\x7f]", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "proto-uri-long", WAF_BLOCK, "request-target longer than 8192 bytes", {
		{ "uri", NULL, "length_over",
		  "8192", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "proto-path-encoding", WAF_BLOCK, "invalid percent-encoding in the path", {
		{ "path", NULL, "regex",
		  "%(?![0-9A-Fa-f]{2})", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "proto-nul", WAF_BLOCK, "NUL or line break smuggled into the path, a file name or a header", {
		{ "path|filenames|headers|cookies", "url|url", "regex",
		  "[\\x00\\r\\n]", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "proto-nul-args", WAF_BLOCK, "NUL byte in an argument", {
		{ "args|arg_names", "url", "regex",
		  "\\x00", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "proto-crlf", WAF_BLOCK, "HTTP response splitting", {
		{ "args|arg_names|cookies", "url|lower", "regex",
		  "[\\r\\n]\\s*(set-cookie\\s*:|http/1\\.[01]\\s+\\d{3})", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "proto-args-many", WAF_BLOCK, "more than 1000 arguments", {
		{ "args", NULL, "count_over",
		  "1000", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "proto-scanner", WAF_BLOCK, "known attack tool", {
		{ "header:user-agent", "lower", "regex",
		  "(sqlmap|nikto|nessus|masscan|nmap scripting engine|acunetix|dirbuster|wpscan|w3af|havij|zgrab|nuclei)", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "sqli-tautology", WAF_BLOCK, "SQL injection: quoted tautology", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "['\\\"`]\\s*\\)*\\s*(or|and|xor|\\|\\||&&)\\s+\\(*\\s*(['\\\"`]?\\w*['\\\"`]?\\s*(=|<>|!=|<=|>=|<|>|\\blike\\b|\\bis\\b|\\bin\\s*\\()|\\d+\\s*($|--|#|;)|true\\b|not\\b|sleep\\s*\\(|exists\\s*\\(|[\\w.]+\\s*\\()", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "sqli-tautology-numeric", WAF_BLOCK, "SQL injection: numeric tautology", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "\\b(or|and)\\s+(\\d+)\\s*(=|<=|>=|like)\\s*\\2\\b|\\b(or|and)\\s+(\\d+)\\s*(<>|!=|<)\\s*(?!\\5\\b)\\d+\\b(?!\\s*\\w)", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "sqli-terminator", WAF_BLOCK, "SQL injection: quote closed and the rest commented out", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "['\\\"`]\\s*\\)*\\s*(--|#)[\\s-]*$|['\\\"`]\\s*\\)*\\s*;\\s*(--|#|$)", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "sqli-union", WAF_BLOCK, "SQL injection: UNION SELECT", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "\\bunion(\\s+(all|distinct))?\\s*\\(*\\s*select\\b", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "sqli-stacked", WAF_BLOCK, "SQL injection: stacked statement", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "[;'\\\"`)]\\s*;?\\s*(drop\\s+(table|database|schema|user|view|index)\\b|truncate\\s+table\\b|alter\\s+(table|user|database)\\b|delete\\s+from\\s+[\\w.\\[\\]`\\\"]+|insert\\s+into\\s+[\\w.\\[\\]`\\\"]+\\s*(\\(|values\\b|select\\b)|update\\s+[\\w.\\[\\]`\\\"]+\\s+set\\s+[\\w.\\[\\]`\\\"]+\\s*=|exec(ute)?\\s+(xp_|sp_|master\\.)|declare\\s+@\\w+|shutdown\\b\\s*(--|#|;|$)|create\\s+(table|user|function|procedure)\\b|select\\s+(\\*|@@|null\\b|\\d+\\s*(,|$|--|#|;)|(pg_sleep|sleep|load_file|version|user|database|char|concat)\\s*\\())", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "sqli-functions", WAF_BLOCK, "SQL injection: timing or error-based function", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "\\b(sleep|benchmark|pg_sleep)\\s*\\(\\s*\\d[\\d\\s,]*[),]|\\b(extractvalue|updatexml|load_file|utl_inaddr\\.get_host_address|dbms_pipe\\.receive_message|utl_http\\.request|dbms_lock\\.sleep)\\s*\\(|\\bwaitfor\\s+(delay|time)\\s+'|\\binto\\s+(out|dump)file\\b|\\b(convert|cast)\\s*\\(\\s*(int|char|varchar)\\b.*@@|\\bif\\s*\\(\\s*\\d+\\s*=\\s*\\d+\\s*,", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "sqli-catalog", WAF_BLOCK, "SQL injection: system catalog or variable", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "\\b(information_schema|sysobjects|syscolumns|pg_catalog|pg_shadow|mysql\\.user|sqlite_master|all_tables|user_tables|xp_cmdshell|sys\\.dm_\\w+)\\b|@@(version|datadir|hostname|servername|basedir)\\b|\\bselect\\s+(\\*|@@|null\\b|\\d+\\s*,\\s*\\d+|(count|concat|group_concat|char|chr|version|user|database|current_user|load_file|substring|ascii|hex)\\s*\\(|[\\w.]+\\s+from\\s+[\\w.]+\\s*(where\\b|limit\\b|--|#|;|$))", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "sqli-char-concat", WAF_BLOCK, "SQL injection: string built from character codes", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "\\b(char|chr)\\s*\\(\\s*\\d+\\s*(,\\s*\\d+\\s*)+\\)|\\bconcat(_ws)?\\s*\\(\\s*(0x|char\\s*\\(|@@|['\\\"][^'\\\"]*['\\\"]\\s*,\\s*\\()|0x[0-9a-f]{16,}", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "xss-script", WAF_BLOCK, "XSS: script element", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "<\\s*/?\\s*script\\b", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "xss-event", WAF_BLOCK, "XSS: event handler in a tag", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "<\\s*[a-z!?/][^>]*?[\\s\\\"'/;]on[a-z]{3,}\\s*=", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "xss-attribute", WAF_BLOCK, "XSS: attribute breakout into an event handler", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "[\\\"'`]\\s*/?\\s*\\bon(error|load|unload|beforeunload|mouse\\w+|pointer\\w+|focus\\w*|blur|click|dblclick|contextmenu|key\\w+|change|submit|reset|select|input|invalid|animation\\w+|transition\\w+|toggle|begin|end|wheel|drag\\w*|drop|copy|paste|cut|scroll|resize|hashchange|message|show|start|play|pageshow|popstate|auxclick)\\s*=", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "xss-uri", WAF_BLOCK, "XSS: script URI", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "\\b(java|vb|live)script\\s*:\\s*[\\w$.\\[\\]'\\\"/(]+\\s*[(\\x60=]|\\bjavascript\\s*:\\s*(//|/\\*|\\(|\\[|'|\\\"|\\x60|void\\b|alert\\b|eval\\b|document\\b|window\\b|top\\b|self\\b|this\\b)|\\bdata\\s*:\\s*text/html|\\bdata\\s*:[^,]*;base64,\\s*phn", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "xss-tags", WAF_BLOCK, "XSS: active content element", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "<\\s*(iframe|frame|frameset|object|embed|applet|base|meta|isindex|svg|math|xss|template|portal)\\b|<\\s*(img|image|video|audio|source|input|body|div|a|link|style|details|marquee|table|td|form|button|isindex|select|textarea|keygen|iframe)\\b[^>]*\\b(formaction|srcdoc|xlink:href|dynsrc|lowsrc|background|src|href|action|data)\\s*=\\s*[\\\"'`]?\\s*(javascript|vbscript|data)\\s*:", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "xss-dom", WAF_BLOCK, "XSS: script reaching for the document", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "\\bdocument\\s*\\.\\s*(cookie|domain|write(ln)?\\s*\\(|location\\s*=)|\\bwindow\\s*\\.\\s*location\\s*=|\\.\\s*innerhtml\\s*=|\\bstring\\s*\\.\\s*fromcharcode\\s*\\(|\\b(alert|prompt|confirm)\\s*(\\(|\\x60)\\s*(\\d|document|window|['\\\"\\x60]|/|\\)|this)|\\beval\\s*\\(\\s*(atob|unescape|string|location|name|['\\\"\\x60])|\\b(settimeout|setinterval)\\s*\\(\\s*['\\\"\\x60]|\\bconstructor\\s*\\(\\s*['\\\"\\x60]|\\bimport\\s*\\(\\s*['\\\"\\x60]\\s*(https?:|//|data:)", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "xss-style", WAF_BLOCK, "XSS: script in a style", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "\\bexpression\\s*\\(|-moz-binding\\s*:|\\bbehavior\\s*:\\s*url|@import\\s+['\\\"]?\\s*(javascript|data):|\\burl\\s*\\(\\s*['\\\"]?\\s*javascript:", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "xss-template", WAF_BLOCK, "template injection", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower|comments|space", "regex",
		  "\\{\\{\\s*(constructor|[\\w.]*__\\w+__|7\\s*\\*\\s*7|config\\b|self\\b|request\\b|lipsum\\b|cycler\\b)|\\$\\{\\s*\\d+\\s*\\*\\s*\\d+\\s*\\}|<%=?\\s*\\d+\\s*\\*\\s*\\d+\\s*%>|#\\{\\s*\\d+\\s*\\*\\s*\\d+\\s*\\}", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "path-dotdot", WAF_BLOCK, "path traversal: .. in the path", {
		{ "path", "url|url|html|lower", "regex",
		  "(^|[\\\\/])\\.\\.([\\\\/]|$)|\\xc0[\\xae\\xaf]|\\xe0\\x80\\xae", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "path-dotdot-args", WAF_BLOCK, "path traversal: .. in an argument", {
		{ "args|cookies|filenames|header:referer", "url|url|html|lower", "regex",
		  "(\\.\\.[\\\\/]){2,}|(^|[\\\\/=])\\.\\.[\\\\/]+[^\\\\/]*\\b(etc|windows|winnt|boot|proc|system32|var|usr|root|home|\\.ssh|\\.env|\\.git|web-inf|passwd|shadow|config)\\b|^\\.\\.[\\\\/]|\\xc0[\\xae\\xaf]|\\.\\.[\\\\/]*\\x00|\\.\\.(%|\\\\)(2f|5c)", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "path-files", WAF_BLOCK, "path traversal: system file", {
		{ "args|cookies|filenames|path", "url|url|html|lower|path", "regex",
		  "/etc/(passwd|shadow|group|gshadow|sudoers|master\\.passwd|security/)|/proc/(self|\\d+)/(environ|cmdline|fd|maps|mem)|\\b(win\\.ini|boot\\.ini|system\\.ini)\\b|[a-z]:/+(windows|winnt)/+(system32|win\\.ini|repair)|/\\.ssh/(id_\\w+|authorized_keys)|/\\.(htaccess|htpasswd|git/config|aws/credentials)|web-inf/web\\.xml|/var/log/(auth|apache2?|nginx|httpd|syslog)", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "path-wrapper", WAF_BLOCK, "path traversal: stream wrapper", {
		{ "args|cookies|filenames|header:referer", "url|url|html|lower", "regex",
		  "^\\s*(file|php|phar|expect|zip|glob|jar|gopher|dict|ldap)://|\\bphp://(filter|input|fd|memory)", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "cmd-separator", WAF_BLOCK, "command injection: shell command after a separator", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower", "regex",
		  "(;|\\||\\|\\||&&|&|\\x60|\\$\\()\\s*(cat|ls|id|whoami|uname|wget|curl|nc|ncat|netcat|bash|sh|zsh|dash|ksh|ping|nslookup|dig|rm|chmod|chown|python[23]?|perl|ruby|php|echo|sleep|head|tail|ps|ifconfig|ip|env|printenv|telnet|kill|touch|mkfifo|base64|busybox|powershell|cmd|net|type|dir|find|xargs|awk|sed|tftp|ftp|scp|ssh|socat|crontab|useradd|passwd|shutdown|reboot|nohup|sudo|su|systeminfo|certutil|bitsadmin)\\b(\\s+(-{1,2}\\w|/|\\.\\.?/|~|\\$|[<>]|\\w+://|\\d+\\s*($|[;|&\\x60)])|[\\w.-]+\\.(sh|txt|php|py|pl|exe|\\d+)\\b|\\d+\\.\\d+\\.\\d+\\.\\d+)|\\s+[a-z]:\\\\|\\s*($|[;|&\\x60)]))|[\\r\\n]\\s*(id|whoami|uname|ifconfig|ipconfig|systeminfo)\\s*($|[;|&\\r\\n])", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "cmd-substitution", WAF_BLOCK, "command injection: command substitution", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower", "regex",
		  "\\$\\(\\s*[a-z/]+[^)]*\\)|\\x60\\s*[a-z/][\\w/ .-]*\\x60|\\$\\{?ifs\\b|\\$\\{?path:0:1\\}", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "cmd-shells", WAF_BLOCK, "command injection: shell or reverse shell", {
		{ "args|arg_names|cookies|filenames|path|header:user-agent|header:referer|header:x-forwarded-for", "url|html|lower", "regex",
		  "/bin/(ba|z|da|c|tc|k)?sh\\b|/usr/bin/(env|python\\d?|perl|nc|wget|curl|id|whoami)\\b|\\bnc(at)?\\s+(-\\w+\\s+)*-[ec]\\b|/dev/(tcp|udp)/|\\bcmd(\\.exe)?\\s+/[ck]\\b|\\bpowershell(\\.exe)?\\s+-(enc|e|nop|noprofile|c|command|w|windowstyle)\\b|\\b(bash|sh)\\s+-[ci]\\b|\\bmkfifo\\s+/tmp/", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "cmd-shellshock", WAF_BLOCK, "command injection: Shellshock function definition", {
		{ "headers|args|cookies", NULL, "regex",
		  "\\(\\s*\\)\\s*\\{", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "cmd-log4shell", WAF_BLOCK, "remote code: JNDI lookup", {
		{ "headers|args|arg_names|cookies|path", "url|url|lower", "regex",
		  "\\$\\{\\s*(jndi|(lower|upper|env|sys|date|main|::-)[^}]*\\}[^}]*(jndi|ldap|rmi|dns))|\\$\\{\\s*[^}]*j[^}]*\\}?\\s*\\{?\\s*n\\s*\\}?d", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "resp-sql-error", WAF_BLOCK, "response leaks a database error", {
		{ "response_body", "lower", "regex",
		  "you have an error in your sql syntax|\\bora-0\\d{4}\\b|pg::syntaxerror|sqlstate\\[\\w+\\]|unclosed quotation mark after the character string|sqlite3::(sql)?exception|warning: (mysql|pg|mssql|oci)_\\w+\\(", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ "resp-passwd-leak", WAF_BLOCK, "response leaks a password file", {
		{ "response_body", NULL, "regex",
		  "\\broot:[x*!]?:0:0:", 0 },
		{ NULL, NULL, NULL, NULL, 0 } } },
	{ NULL, WAF_ALLOW, NULL, { { NULL, NULL, NULL, NULL, 0 } } }
};
