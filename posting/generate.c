/*
 * Realistic books (issue 7): a county's year of earmarked funds, written as
 * the files earmark's own commands read, so that loading them goes through
 * every rule the office meets.
 *
 * Per county, in a directory named by its 6-digit code (统计用区划代码 of
 * Shaanxi; the table below): master data (bank accounts, funds of all four
 * levels with their 文号 and permitted use categories, villages with
 * 12-digit codes, households with GB 11643 ID numbers whose birth date,
 * sex digit and check digit are right and whose names are Chinese,
 * projects with budgets, targets and their approval, start, inspections
 * and acceptance), one receipt voucher per fund, the beneficiary lists and
 * batches of the household programmes, each batch after its list's notice
 * period, and the dedicated accounts' camt.053 statements month by month:
 * fund arrivals, contractors paid by progress, every household payment by
 * its end-to-end id, a few payments returned by the bank, and quarterly
 * interest.  steps.tsv says what to run in date order (tests/load-book
 * runs it through the earmark commands); refused.tsv lists attempts that
 * the rules must refuse, each with the rule it meets.
 *
 * Invariants kept here, so that a load never fails for the generator's
 * sake: every fund has received more than is ever spent from it before the
 * first payment (A2); every project is paid only from a fund that permits
 * its category (A3), after approval with targets (P1), within its budget
 * (P2) and, before acceptance, within inspected progress plus the 30 %
 * advance and short of the 3 % retention (P3); household caps (WF 40,000,
 * CY 10,000 a year) and the list's grant hold (H2); every batch is dated 13
 * days after its list was published for 10 (H3).  The end-to-end ids in the
 * statements are those earmark gives (batch code, '-', the file line as 6
 * digits; 0010_batch_speed.sql), so matching clears every statement line.
 *
 * Randomness is splitmix64 seeded by the seed and the county's number,
 * consumed in a fixed order, so the same seed, scale and year give the same
 * bytes on every machine.  ID numbers are checked by em_id_check itself.
 * Memory: one county at a time; its bank events (one per household
 * payment, about 1.4 million for a county) are the largest part, ~50 MB.
 */
#include "posting/generate.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger/error.h"
#include "ledger/idno.h"
#include "ledger/strbuf.h"

/* ---- tables ------------------------------------------------------------- */

struct gen_county {
	const char *code;     /* 6 digits */
	const char *name;
	const char *city;     /* the prefecture's one-character abbreviation, for 文号 */
};

/* Counties of Shaanxi (统计用区划代码), rural ones first: the province scale takes 100. */
static const struct gen_county counties[] = {
	{ "610826", "绥德县", "榆" }, { "610827", "米脂县", "榆" }, { "610828", "佳县", "榆" },
	{ "610829", "吴堡县", "榆" }, { "610830", "清涧县", "榆" }, { "610831", "子洲县", "榆" },
	{ "610822", "府谷县", "榆" }, { "610824", "靖边县", "榆" }, { "610825", "定边县", "榆" },
	{ "610803", "横山区", "榆" }, { "610802", "榆阳区", "榆" }, { "610881", "神木市", "榆" },
	{ "610602", "宝塔区", "延" }, { "610603", "安塞区", "延" }, { "610621", "延长县", "延" },
	{ "610622", "延川县", "延" }, { "610625", "志丹县", "延" }, { "610626", "吴起县", "延" },
	{ "610627", "甘泉县", "延" }, { "610628", "富县", "延" }, { "610629", "洛川县", "延" },
	{ "610630", "宜川县", "延" }, { "610631", "黄龙县", "延" }, { "610632", "黄陵县", "延" },
	{ "610681", "子长市", "延" }, { "610702", "汉台区", "汉" }, { "610703", "南郑区", "汉" },
	{ "610722", "城固县", "汉" }, { "610723", "洋县", "汉" }, { "610724", "西乡县", "汉" },
	{ "610725", "勉县", "汉" }, { "610726", "宁强县", "汉" }, { "610727", "略阳县", "汉" },
	{ "610728", "镇巴县", "汉" }, { "610729", "留坝县", "汉" }, { "610730", "佛坪县", "汉" },
	{ "610902", "汉滨区", "安" }, { "610921", "汉阴县", "安" }, { "610922", "石泉县", "安" },
	{ "610923", "宁陕县", "安" }, { "610924", "紫阳县", "安" }, { "610925", "岚皋县", "安" },
	{ "610926", "平利县", "安" }, { "610927", "镇坪县", "安" }, { "610929", "白河县", "安" },
	{ "610981", "旬阳市", "安" }, { "611002", "商州区", "商" }, { "611021", "洛南县", "商" },
	{ "611022", "丹凤县", "商" }, { "611023", "商南县", "商" }, { "611024", "山阳县", "商" },
	{ "611025", "镇安县", "商" }, { "611026", "柞水县", "商" }, { "610502", "临渭区", "渭" },
	{ "610503", "华州区", "渭" }, { "610522", "潼关县", "渭" }, { "610523", "大荔县", "渭" },
	{ "610524", "合阳县", "渭" }, { "610525", "澄城县", "渭" }, { "610526", "蒲城县", "渭" },
	{ "610527", "白水县", "渭" }, { "610528", "富平县", "渭" }, { "610581", "韩城市", "渭" },
	{ "610582", "华阴市", "渭" }, { "610422", "三原县", "咸" }, { "610423", "泾阳县", "咸" },
	{ "610424", "乾县", "咸" }, { "610425", "礼泉县", "咸" }, { "610426", "永寿县", "咸" },
	{ "610428", "长武县", "咸" }, { "610429", "旬邑县", "咸" }, { "610430", "淳化县", "咸" },
	{ "610431", "武功县", "咸" }, { "610481", "兴平市", "咸" }, { "610482", "彬州市", "咸" },
	{ "610404", "渭城区", "咸" }, { "610323", "岐山县", "宝" }, { "610324", "扶风县", "宝" },
	{ "610326", "眉县", "宝" }, { "610327", "陇县", "宝" }, { "610328", "千阳县", "宝" },
	{ "610329", "麟游县", "宝" }, { "610330", "凤县", "宝" }, { "610331", "太白县", "宝" },
	{ "610304", "陈仓区", "宝" }, { "610305", "凤翔区", "宝" }, { "610222", "宜君县", "铜" },
	{ "610204", "耀州区", "铜" }, { "610203", "印台区", "铜" }, { "610122", "蓝田县", "西" },
	{ "610124", "周至县", "西" }, { "610118", "鄠邑区", "西" }, { "610116", "长安区", "西" },
	{ "610117", "高陵区", "西" }, { "610115", "临潼区", "西" }, { "610114", "阎良区", "西" },
	{ "610111", "灞桥区", "西" },
};
#define NCOUNTIES (sizeof(counties) / sizeof(counties[0]))

struct gen_scale {
	const char *name;
	int counties;
	int villages;        /* per county */
	int households;
	int projects;        /* household programmes included */
	int funds;
	int accounts;        /* dedicated bank accounts */
	unsigned programmes; /* bit i: programmes[i] runs */
	unsigned months;     /* bit m-1: monthly programmes pay in month m */
	int returns_pcm;      /* household payments returned, per 100,000 */
};

static const struct gen_scale scales[] = {
	{ "demo", 1, 6, 48, 7, 5, 1, 0x53u, (1u << 4) | (1u << 9), 0 },
	{ "county", 1, 300, 50000, 2000, 20, 4, 0x7fu, 0xffeu, 2 },
	{ "province", 100, 300, 50000, 2000, 20, 4, 0x7fu, 0xffeu, 2 },
};

/* Household programmes: one project each, covering every village. */
struct gen_programme {
	const char *cat;      /* use category (config/use_categories.csv) */
	const char *item;     /* 补助项目, the month or term goes in front */
	const char *title;
	int monthly;          /* paid every month of scale->months, else in months[] */
	int months[2];        /* months of a non-monthly programme (0: none) */
	int share_pm;         /* households taking part, per mille */
	int min_yuan, max_yuan, step_yuan;
	const char *standard;
};

static const struct gen_programme programmes[] = {
	{ "JY", "务工交通补贴", "脱贫劳动力外出务工交通补贴", 1, { 0, 0 }, 600, 200, 800, 50,
	  "每人每月200元至800元" },
	{ "CY", "产业发展奖补", "产业发展到户奖补", 0, { 4, 9 }, 600, 500, 5000, 100,
	  "每户每次500元至5000元，全年不超过10000元" },
	{ "JY", "公益性岗位补贴", "乡村公益性岗位补贴", 1, { 0, 0 }, 400, 500, 800, 100,
	  "每岗每月500元至800元" },
	{ "XD", "小额信贷贴息", "脱贫人口小额信贷贴息", 1, { 0, 0 }, 600, 50, 300, 10,
	  "按贷款基准利率全额贴息" },
	{ "WF", "农村危房改造补助", "农村危房改造", 0, { 6, 0 }, 12, 15000, 40000, 0,
	  "D级每户不超过40000元，C级每户不超过15000元" },
	{ "JZ", "雨露计划补助", "雨露计划职业教育补助", 0, { 3, 9 }, 300, 1500, 1500, 0,
	  "每生每学期1500元" },
	{ "YL", "健康帮扶医疗补助", "脱贫人口健康帮扶医疗补助", 1, { 0, 0 }, 800, 50, 600, 10,
	  "按合规医疗费用自付部分分档补助" },
};
#define NPROGRAMMES (sizeof(programmes) / sizeof(programmes[0]))

/* Categories of projects paid by progress, with weights out of 100. */
struct gen_kind {
	const char *cat;
	int weight;
	const char *name;     /* @: the village */
	const char *scale;    /* @: a size from the budget (so is target_value's) */
	int per_unit_yuan;    /* budget per unit of scale */
	const char *unit;     /* implementing unit, after the county name */
	const char *company;  /* contractor's trade */
	const char *target_kind, *target_indicator, *target_value;
	const char *benefit;
};

static const struct gen_kind kinds[] = {
	{ "JC", 25, "@产业路硬化", "硬化道路@米，宽4.5米", 400, "交通运输局", "路桥工程有限公司",
	  "产出", "硬化道路长度", "≥@米", "方便群众出行和农产品外运" },
	{ "JC", 15, "@人饮安全巩固提升", "铺设供水管网@米", 150, "水利局", "水利工程有限公司",
	  "产出", "新铺设供水管网", "≥@米", "保障群众饮水安全" },
	{ "JC", 10, "@小型水利设施", "修建灌溉渠道@米", 300, "水利局", "水利工程有限公司",
	  "产出", "新建灌溉渠道", "≥@米", "改善农田灌溉条件，带动脱贫户增收" },
	{ "CY", 15, "@食用菌大棚", "新建食用菌大棚@座", 30000, "农业农村局", "农业开发有限公司",
	  "产出", "新建大棚数量", "@座", "脱贫户入股分红，每年每户不少于800元" },
	{ "CY", 10, "@肉牛养殖圈舍", "新建标准化圈舍@平方米", 600, "农业农村局", "建设有限公司",
	  "产出", "新建圈舍面积", "≥@平方米", "带动脱贫户发展养殖，务工增收" },
	{ "CY", 10, "@苹果园提质增效", "改造老果园@亩", 2500, "农业农村局", "农业开发有限公司",
	  "产出", "改造果园面积", "≥@亩", "土地流转和务工带动脱贫户增收" },
	{ "JY", 5, "@就业帮扶车间", "建设帮扶车间@平方米", 1500, "人力资源和社会保障局", "建筑工程有限公司",
	  "效益", "吸纳脱贫劳动力就业", "≥@人", "优先吸纳脱贫劳动力就近就业" },
	{ "YL", 5, "@卫生室标准化建设", "改扩建村卫生室@平方米", 3000, "卫生健康局", "建筑工程有限公司",
	  "产出", "改扩建卫生室面积", "≥@平方米", "方便群众就近就医" },
	{ "JZ", 5, "@幼儿园改扩建", "改扩建园舍@平方米", 3500, "教育局", "建筑工程有限公司",
	  "产出", "改扩建园舍面积", "≥@平方米", "保障适龄儿童就近入园" },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static const char *const categories_all[] = { "CY", "JC", "WF", "JY", "JZ", "YL", "XD" };
#define NCATS 7

/* 3-byte UTF-8 characters, picked by index. */
static const char surnames[] =
	"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
	"吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱";
static const char given_m[] = "建国明华军平志强文海成福德山永保安伟刚勇磊涛斌超杰鹏亮东宏兵生长春林";
static const char given_f[] = "秀英桂兰玉梅花凤红芳娟霞丽艳燕萍敏静琴云珍翠莲香琳娥巧月雪彩";
static const char *const village_suffix[] = { "家村", "家沟村", "家湾村", "家坪村", "家庄村",
					      "家塬村", "家峁村", "家岔村", "家河村", "家山村" };
static const char *const town_roots[] = {
	"城关", "河口", "石门", "龙泉", "青山", "白土", "马场", "枣林", "柳林", "双庙", "高家",
	"龙湾", "三岔", "田庄", "义合", "满堂", "吉镇", "中角", "名州", "韭园", "四十铺", "崔家湾",
	"薛家河", "张家砭", "定仙墕", "白家硷", "枣林坪", "赵家砭", "周家硷", "辛店",
};
#define NTOWNROOTS (sizeof(town_roots) / sizeof(town_roots[0]))
static const char *const firm_words[] = { "宏达", "鑫源", "兴旺", "金鼎", "昌盛", "华泰",
					  "恒通", "顺达", "永安", "瑞丰", "德信", "明远" };
static const char *const level_names[] = { "central", "province", "city", "county" };
static const char *const fund_names[] = { "中央财政衔接推进乡村振兴补助资金",
					  "省级财政衔接推进乡村振兴补助资金",
					  "市级财政衔接推进乡村振兴补助资金",
					  "县级财政衔接推进乡村振兴补助资金" };
static const char *const fund_prefix[] = { "ZY", "SJ", "SHI", "XJ" };

/* Banks of the dedicated accounts: name, CNAPS 行号 prefix, card BIN. */
static const struct { const char *name, *cnaps, *bin; } banks[] = {
	{ "中国农业银行", "103", "622848" },
	{ "中国建设银行", "105", "621700" },
	{ "中国邮政储蓄银行", "403", "621799" },
	{ "中国工商银行", "102", "622202" },
};

/* ---- randomness ---------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* 0 .. n-1 (n > 0); the modulo bias is below 2^-40 for every n used here. */
static int rnd(uint64_t *s, int n)
{
	return (int)(rng_next(s) % (uint64_t)n);
}

static int between(uint64_t *s, int lo, int hi)
{
	return lo + rnd(s, hi - lo + 1);
}

/* ---- dates: days of the year, 0 = 1 January ------------------------------ */

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int mdays(int y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

static int day_of(int y, int m, int d)
{
	int n = d - 1;

	for (int i = 1; i < m; i++)
		n += mdays(y, i);
	return n;
}

static int month_of(int y, int day)
{
	int m = 1;

	while (m < 12 && day >= mdays(y, m)) {
		day -= mdays(y, m);
		m++;
	}
	return m;
}

static void fmt_day(int y, int day, char out[11])
{
	int m = 1;

	while (m < 12 && day >= mdays(y, m)) {
		day -= mdays(y, m);
		m++;
	}
	day++;
	out[0] = (char)('0' + y / 1000 % 10);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + day / 10 % 10);
	out[9] = (char)('0' + day % 10);
	out[10] = '\0';
}

static const char *fen_str(int64_t fen, char buf[32])
{
	snprintf(buf, 32, "%" PRId64 ".%02d", fen / 100, (int)(fen % 100));
	return buf;
}

/* ---- the county being written ------------------------------------------ */

struct gen_hh {
	int village;
	char name[16];        /* 2 or 3 characters */
	char id[EM_ID_LEN + 1];
	char card[20];
	int bank;             /* index into banks[] */
	int wf_cost_yuan;     /* recorded building cost, WF households only */
};

struct gen_fund {
	char code[24];
	int level;            /* 0 central .. 3 county */
	int account;          /* its dedicated account */
	unsigned cats;        /* bit i: categories_all[i] permitted */
	int64_t spend_fen;    /* planned spending from it */
	int64_t amount_fen;   /* allocated and received */
	int receipt_day;
	int doc_no;
};

struct gen_account {
	char no[20];
	int bank;
};

enum { EV_RECEIPT, EV_CLAIM, EV_HHPAY, EV_RETURN, EV_INTEREST };

/* One movement on a dedicated account as the bank books it. */
struct gen_event {
	int day;
	int account;
	int kind;             /* EV_* */
	int batch;            /* household payments: index of the batch code */
	int line;             /* household payments: file line of the batch */
	int hh;               /* household payments: the household */
	int64_t fen;          /* > 0 credit, < 0 debit */
	long seq;             /* order of creation, to sort stably */
};

struct gen_step {
	int day;
	int order;            /* within the day: what must come first */
	long seq;
	char *text;           /* the line, without its date */
};

struct gen {
	const struct em_gen_opts *o;
	const struct gen_scale *sc;
	const struct gen_county *cty;
	struct em_gen_summary *sum;
	struct em_error *err;
	uint64_t rng;
	int year;
	char dir[4096];
	char short_name[32];  /* the county's name without 县/区/市 */
	int nv, ntown;
	char (*vcode)[13];
	char (*vname)[40];
	int *vtown;
	char (*tname)[40];
	struct gen_hh *hh;
	int nh;
	struct gen_fund *fund;
	int nf;
	struct gen_account acct[8];
	int na;
	struct gen_event *ev;
	size_t nev, capev;
	struct gen_step *st;
	size_t nst, capst;
	char (*bcode)[32];
	int nb, capb;
	int doc_seq;          /* 文号 numbers of the county's documents */
	long lines;
};

static void *xrealloc(struct gen *g, void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		em_error_set(g->err, "out of memory generating county %s", g->cty->code);
	return q;
}

static FILE *open_out(struct gen *g, const char *name)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", g->dir, name);
	f = fopen(path, "w");
	if (!f)
		em_error_set(g->err, "cannot write '%s': %s", path, strerror(errno));
	return f;
}

static int close_out(struct gen *g, FILE *f, const char *name)
{
	if (ferror(f) | (fclose(f) != 0))
		return em_error_set(g->err, "writing '%s/%s' failed", g->dir, name);
	return 0;
}

static int add_step(struct gen *g, int day, int order, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int add_step(struct gen *g, int day, int order, const char *fmt, ...)
{
	struct em_strbuf sb = EM_STRBUF_INIT;
	va_list ap;

	if (g->nst == g->capst) {
		struct gen_step *n = xrealloc(g, g->st, (g->capst = g->capst ? 2 * g->capst : 256) * sizeof *n);
		if (!n)
			return EM_ERR;
		g->st = n;
	}
	va_start(ap, fmt);
	em_strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	g->st[g->nst] = (struct gen_step){ day, order, (long)g->nst, em_strbuf_detach(&sb, NULL) };
	g->nst++;
	return 0;
}

static int add_event(struct gen *g, int day, int account, int kind, int64_t fen, int batch, int line,
		     int hh)
{
	if (g->nev == g->capev) {
		struct gen_event *n = xrealloc(g, g->ev, (g->capev = g->capev ? 2 * g->capev : 4096) * sizeof *n);
		if (!n)
			return EM_ERR;
		g->ev = n;
	}
	g->ev[g->nev] = (struct gen_event){ day, account, kind, batch, line, hh, fen, (long)g->nev };
	g->nev++;
	return 0;
}

/* One 3-byte character of a UTF-8 string of them, appended to out. */
static void add_char(char *out, size_t size, const char *chars, int i)
{
	size_t len = strlen(out);

	if (len + 4 <= size) {
		memcpy(out + len, chars + 3 * i, 3);
		out[len + 3] = '\0';
	}
}

static int nchars(const char *chars)
{
	return (int)(strlen(chars) / 3);
}

static void person_name(struct gen *g, int male, char out[16])
{
	const char *given = male ? given_m : given_f;

	out[0] = '\0';
	/* the most common surnames are at the front: favour them */
	add_char(out, 16, surnames, rnd(&g->rng, 2) ? rnd(&g->rng, 20) : rnd(&g->rng, nchars(surnames)));
	add_char(out, 16, given, rnd(&g->rng, nchars(given)));
	if (rnd(&g->rng, 3))
		add_char(out, 16, given, rnd(&g->rng, nchars(given)));
}

static int luhn(const char *s)
{
	int sum = 0, dbl = 1;

	for (int i = (int)strlen(s) - 1; i >= 0; i--) {
		int d = s[i] - '0';
		if (dbl && (d *= 2) > 9)
			d -= 9;
		sum += d;
		dbl = !dbl;
	}
	return (10 - sum % 10) % 10;
}

/* ---- ID numbers, unique within a county ---------------------------------- */

struct idset {
	uint64_t *slot;       /* 0 empty, else the 17 digits + 1 */
	size_t mask;
};

static int idset_add(struct idset *s, uint64_t v)
{
	size_t i = (size_t)((v * 0x9e3779b97f4a7c15u) >> 20) & s->mask;

	while (s->slot[i]) {
		if (s->slot[i] == v + 1)
			return 0;
		i = (i + 1) & s->mask;
	}
	s->slot[i] = v + 1;
	return 1;
}

/*
 * A GB 11643 number: area code (the county's, or another Shaanxi county's
 * for people born elsewhere), birth date of an adult head of household,
 * sequence whose last digit is odd for men, and the check digit, the one
 * of the eleven candidates em_id_check accepts.
 */
static int make_id(struct gen *g, struct idset *seen, int male, char out[EM_ID_LEN + 1])
{
	char today[16], id[64];
	const char *why;

	snprintf(today, sizeof today, "%04d-12-31", g->year % 10000);
	for (;;) {
		const char *area = rnd(&g->rng, 100) < 88 ? g->cty->code
				   : counties[rnd(&g->rng, (int)NCOUNTIES)].code;
		int y = g->year - between(&g->rng, 20, 85);
		int m = between(&g->rng, 1, 12);
		int d = between(&g->rng, 1, mdays(y, m));
		int seq = between(&g->rng, 0, 99) * 10 + 2 * rnd(&g->rng, 5) + (male ? 1 : 0);
		uint64_t v;

		snprintf(id, sizeof id, "%.6s%04u%02u%02u%03u", area, (unsigned)y % 10000u, (unsigned)m % 100u,
			 (unsigned)d % 100u, (unsigned)seq % 1000u);
		v = strtoull(id, NULL, 10);
		if (!idset_add(seen, v))
			continue;
		for (const char *c = "0123456789X"; *c; c++) {
			id[17] = *c;
			id[18] = '\0';
			if (em_id_check(id, today, out, &why) == 0)
				return 0;
		}
		return em_error_set(g->err, "no check digit makes '%.17s' valid", id);
	}
}

/* ---- master data ---------------------------------------------------------- */

static int gen_villages(struct gen *g)
{
	int per_town = g->sc->villages > 40 ? 20 : 3;
	int first_root = rnd(&g->rng, (int)NTOWNROOTS);
	FILE *f;

	g->nv = g->sc->villages;
	g->ntown = (g->nv + per_town - 1) / per_town;
	g->vcode = calloc((size_t)g->nv, sizeof *g->vcode);
	g->vname = calloc((size_t)g->nv, sizeof *g->vname);
	g->vtown = calloc((size_t)g->nv, sizeof *g->vtown);
	g->tname = calloc((size_t)g->ntown, sizeof *g->tname);
	if (!g->vcode || !g->vname || !g->vtown || !g->tname)
		return em_error_set(g->err, "out of memory generating county %s", g->cty->code);
	for (int t = 0; t < g->ntown; t++)
		snprintf(g->tname[t], sizeof g->tname[t], "%s%s",
			 town_roots[(first_root + t) % NTOWNROOTS], t % 4 == 3 ? "乡" : "镇");
	if (!(f = open_out(g, "villages.csv")))
		return EM_ERR;
	fprintf(f, "code,name,township,county\n");
	for (int v = 0; v < g->nv; v++) {
		int t = v / per_town;
		/* towns 1xx, townships 2xx; village committees 2xx (统计用区划代码) */
		snprintf(g->vcode[v], sizeof g->vcode[v], "%s%03d%03d", g->cty->code,
			 (t % 4 == 3 ? 200 : 100) + t, 201 + v % per_town);
		g->vname[v][0] = '\0';
		add_char(g->vname[v], sizeof g->vname[v], surnames, rnd(&g->rng, 40));
		snprintf(g->vname[v] + strlen(g->vname[v]), sizeof g->vname[v] - strlen(g->vname[v]), "%s",
			 village_suffix[rnd(&g->rng, 10)]);
		g->vtown[v] = t;
		fprintf(f, "%s,%s,%s,%s\n", g->vcode[v], g->vname[v], g->tname[t], g->cty->name);
	}
	return close_out(g, f, "villages.csv");
}

static int gen_households(struct gen *g)
{
	struct idset seen = { NULL, 0 };
	size_t cap = 1;
	FILE *f;
	int ret = EM_ERR;

	while (cap < 4 * (size_t)g->sc->households)
		cap <<= 1;
	seen.slot = calloc(cap, sizeof *seen.slot);
	seen.mask = cap - 1;
	g->nh = g->sc->households;
	g->hh = calloc((size_t)g->nh, sizeof *g->hh);
	if (!seen.slot || !g->hh) {
		em_error_set(g->err, "out of memory generating county %s", g->cty->code);
		goto out;
	}
	if (!(f = open_out(g, "households.csv")))
		goto out;
	fprintf(f, "code,village,head_name,id_no,members,bank_card,bank_cnaps,phone,status,status_from\n");
	for (int i = 0; i < g->nh; i++) {
		struct gen_hh *h = &g->hh[i];
		int male = rnd(&g->rng, 100) < 78; /* most registered heads are men */
		int s = rnd(&g->rng, 100);
		char body[32];

		h->village = (int)((int64_t)i * g->nv / g->nh);
		person_name(g, male, h->name);
		if (make_id(g, &seen, male, h->id) < 0) {
			fclose(f);
			goto out;
		}
		h->bank = rnd(&g->rng, 10) < 7 ? 0 : 2;
		/* BIN + county + household: unique, then the Luhn digit */
		snprintf(body, sizeof body, "%.6s%06u", g->cty->code, (unsigned)(i + 1) % 1000000u);
		snprintf(h->card, sizeof h->card, "%.6s%.12s", banks[h->bank].bin, body);
		h->card[18] = (char)('0' + luhn(h->card));
		h->card[19] = '\0';
		char since[16] = "";

		if (s < 50)
			snprintf(since, sizeof since, "%d", s < 42 ? 2014 + rnd(&g->rng, 6) : 2021 + rnd(&g->rng, 4));
		fprintf(f, "H%06d,%s,%s,%s,%d,%s,%s%.3s%06d,1%d%d%08d,%s,%s\n", i + 1, g->vcode[h->village],
			h->name, h->id, between(&g->rng, 1, 7), h->card, banks[h->bank].cnaps,
			g->cty->code + 3, 1, between(&g->rng, 3, 9), rnd(&g->rng, 10),
			rnd(&g->rng, 100000000), s < 42 ? "脱贫户" : s < 50 ? "监测户" : "一般户", since);
	}
	ret = close_out(g, f, "households.csv");
out:
	free(seen.slot);
	return ret;
}

static int cat_index(const char *cat)
{
	for (int i = 0; i < NCATS; i++)
		if (strcmp(categories_all[i], cat) == 0)
			return i;
	return 0;
}

/* Funds of all four levels; amounts are set once the spending is planned. */
static int gen_funds(struct gen *g)
{
	g->nf = g->sc->funds;
	g->na = g->sc->accounts;
	g->fund = calloc((size_t)g->nf, sizeof *g->fund);
	if (!g->fund)
		return em_error_set(g->err, "out of memory generating county %s", g->cty->code);
	for (int a = 0; a < g->na; a++) {
		g->acct[a].bank = a % 4 == 2 ? 1 : a % 4 == 3 ? 3 : a % 2;
		snprintf(g->acct[a].no, sizeof g->acct[a].no, "%s%.6s%06d", banks[g->acct[a].bank].bin,
			 g->cty->code, 880001 + a);
	}
	for (int k = 0; k < g->nf; k++) {
		struct gen_fund *f = &g->fund[k];
		/* 40 % central, 30 % province, 15 % city, 15 % county */
		int q = k * 20 / g->nf;

		f->level = g->nf < 8 ? k % 4 : q < 8 ? 0 : q < 14 ? 1 : q < 17 ? 2 : 3;
		snprintf(f->code, sizeof f->code, "%s%d-%02d", fund_prefix[f->level], g->year, k + 1);
		f->account = g->na == 1 ? 0 : f->level == 0 ? 0 : f->level == 1 ? 1 % g->na
			     : f->level == 2 ? 2 % g->na : 3 % g->na;
		/* every fund permits CY; others by chance, and every category has a fund */
		f->cats = 1u;
		for (int c = 1; c < NCATS; c++)
			if (rnd(&g->rng, 100) < 60 || k % NCATS == c)
				f->cats |= 1u << c;
		f->doc_no = between(&g->rng, 2, 60);
		f->receipt_day = day_of(g->year, 1, 5) + k % 20;
	}
	return 0;
}

/* A fund that permits cat, chosen by chance among those that do. */
static int pick_fund(struct gen *g, const char *cat)
{
	int c = cat_index(cat), n = 0, k;

	for (k = 0; k < g->nf; k++)
		n += (g->fund[k].cats >> c) & 1u;
	n = rnd(&g->rng, n);
	for (k = 0; k < g->nf; k++)
		if (((g->fund[k].cats >> c) & 1u) && n-- == 0)
			return k;
	return 0;
}

/* ---- household programmes: lists, batches, payments ----------------------- */

struct gen_files {
	FILE *projects, *budgets, *targets, *events;
};

static int add_batch_code(struct gen *g, const char *code)
{
	if (g->nb == g->capb) {
		char (*n)[32] = xrealloc(g, g->bcode, (size_t)(g->capb = g->capb ? 2 * g->capb : 64) * sizeof *n);
		if (!n)
			return EM_ERR;
		g->bcode = n;
	}
	snprintf(g->bcode[g->nb], sizeof g->bcode[0], "%s", code);
	return g->nb++;
}

static int gen_programme(struct gen *g, struct gen_files *pf, int p, int pi)
{
	const struct gen_programme *pr = &programmes[pi];
	char pcode[32], day1[11], buf[32];
	int fund = pick_fund(g, pr->cat);
	int *amount = calloc((size_t)g->nh, sizeof *amount);
	int64_t total = 0;
	int months[12], nm = 0;

	if (!amount)
		return em_error_set(g->err, "out of memory generating county %s", g->cty->code);
	snprintf(pcode, sizeof pcode, "P%d-%04d", g->year, p + 1);
	/* who takes part, and how much each gets a time: fixed for the year */
	for (int i = 0; i < g->nh; i++) {
		if (rnd(&g->rng, 1000) >= pr->share_pm)
			continue;
		if (strcmp(pr->cat, "WF") == 0) {
			int grade_d = rnd(&g->rng, 2);
			g->hh[i].wf_cost_yuan = grade_d ? between(&g->rng, 42000, 65000) : between(&g->rng, 16000, 30000);
			amount[i] = grade_d ? 40000 : 15000;
		} else if (pr->step_yuan) {
			amount[i] = pr->min_yuan + pr->step_yuan *
				    rnd(&g->rng, (pr->max_yuan - pr->min_yuan) / pr->step_yuan + 1);
		} else {
			amount[i] = pr->min_yuan;
		}
	}
	if (pr->monthly) {
		for (int m = 1; m <= 12; m++)
			if (g->sc->months & (1u << (m - 1)))
				months[nm++] = m;
	} else {
		for (int k = 0; k < 2; k++)
			if (pr->months[k])
				months[nm++] = pr->months[k];
	}
	for (int k = 0; k < nm; k++) {
		int m = months[k];
		char lcode[32], bcode[32], lfile[64], bfile[64], item[96];
		int list_day = day_of(g->year, m, 1), pub_day = list_day + 1, pay_day = list_day + 14;
		int line = 1, bidx, n = 0, bad;
		int64_t sum = 0;
		FILE *lf, *bf;

		snprintf(lcode, sizeof lcode, "L%d%02d-%02d", g->year, m, pi + 1);
		snprintf(bcode, sizeof bcode, "B%d%02d-%02d", g->year, m, pi + 1);
		if (pr->monthly)
			snprintf(item, sizeof item, "%d年%d月%s", g->year, m, pr->item);
		else if (strcmp(pr->cat, "JZ") == 0)
			snprintf(item, sizeof item, "%d年%s学期%s", g->year, m < 7 ? "春季" : "秋季", pr->item);
		else if (nm > 1)
			snprintf(item, sizeof item, "%d年第%d批%s", g->year, k + 1, pr->item);
		else
			snprintf(item, sizeof item, "%d年%s", g->year, pr->item);
		snprintf(lfile, sizeof lfile, "lists/%s.csv", lcode);
		snprintf(bfile, sizeof bfile, "batches/%s.csv", bcode);
		if (!(lf = open_out(g, lfile)) || !(bf = open_out(g, bfile))) {
			if (lf)
				fclose(lf);
			free(amount);
			return EM_ERR;
		}
		if ((bidx = add_batch_code(g, bcode)) < 0) {
			fclose(lf);
			fclose(bf);
			free(amount);
			return EM_ERR;
		}
		fprintf(lf, "household,amount,item,cost,standard\n");
		fprintf(bf, "household,amount,project,fund,category,list,item,memo\n");
		for (int i = 0; i < g->nh; i++) {
			int64_t fen;

			if (!amount[i])
				continue;
			/* the month's figure varies a little around the household's */
			fen = (int64_t)amount[i] * 100;
			if (pr->monthly && pr->step_yuan)
				fen = (int64_t)(amount[i] + pr->step_yuan * (rnd(&g->rng, 3) - 1)) * 100;
			if (fen < (int64_t)pr->min_yuan * 100)
				fen = (int64_t)pr->min_yuan * 100;
			if (fen > (int64_t)pr->max_yuan * 100)
				fen = (int64_t)pr->max_yuan * 100;
			if (strcmp(pr->cat, "WF") == 0)
				fprintf(lf, "H%06d,%s,%s,%d.00,%s\n", i + 1, fen_str(fen, buf), item,
					g->hh[i].wf_cost_yuan, pr->standard);
			else
				fprintf(lf, "H%06d,%s,%s,,%s\n", i + 1, fen_str(fen, buf), item, pr->standard);
			line++;
			fprintf(bf, "H%06d,%s,%s,%s,%s,%s,%s,%s\n", i + 1, buf, pcode, g->fund[fund].code,
				pr->cat, lcode, item, item);
			if (add_event(g, pay_day + 1, g->fund[fund].account, EV_HHPAY, -fen, bidx, line, i) < 0) {
				fclose(lf);
				fclose(bf);
				free(amount);
				return EM_ERR;
			}
			sum += fen;
			n++;
		}
		bad = close_out(g, lf, lfile) < 0;
		bad |= close_out(g, bf, bfile) < 0;
		if (bad) {
			free(amount);
			return EM_ERR;
		}
		if (n == 0)
			continue;
		total += sum;
		g->lines += n + 3;
		g->sum->batches++;
		fmt_day(g->year, list_day, day1);
		if (add_step(g, list_day, 1, "list\t%s\t%s\t%s\t%d年%s对象公示（%d月）", lcode, lfile, pcode, g->year,
			     pr->title, m) < 0 ||
		    add_step(g, pub_day, 2, "publish\t%s\t10", lcode) < 0 ||
		    add_step(g, pay_day, 4, "batch\t%s\t%s", bcode, bfile) < 0) {
			free(amount);
			return EM_ERR;
		}
	}
	free(amount);

	/* the project: every village, approved and started before the first list */
	g->fund[fund].spend_fen += total;
	fmt_day(g->year, day_of(g->year, 1, 20), day1);
	fprintf(pf->projects, "%s,%d年%s,%s,", pcode, g->year, pr->title, pr->cat);
	for (int v = 0; v < g->nv; v++)
		fprintf(pf->projects, "%s%s", v ? ";" : "", g->vcode[v]);
	fprintf(pf->projects, ",全县%s，%d年%d批次,%s乡村振兴局,%s,,%s,%s,%s,%d-12-31\n", pr->title, g->year, nm,
		g->cty->name, g->hh[rnd(&g->rng, g->nh)].name, pr->standard, "直接补助到户，增加脱贫户收入",
		day1, g->year);
	fprintf(pf->budgets, "%s,%s,%s\n", pcode, g->fund[fund].code, fen_str(total + total / 10 + 100000, buf));
	fprintf(pf->targets, "%s,产出,补助到户数,≥%d户\n", pcode, 1 + (int)(total > 0 ? g->nh * pr->share_pm / 1100 : 0));
	fprintf(pf->targets, "%s,满意度,受益群众满意度,≥95%%\n", pcode);
	fprintf(pf->events, "%s,approval,%s,,%s乡振发〔%d〕%d号,县级项目库入库并批复\n", pcode, day1,
		g->short_name, g->year, ++g->doc_seq);
	fmt_day(g->year, day_of(g->year, 1, 25), day1);
	fprintf(pf->events, "%s,start,%s,,,实施\n", pcode, day1);
	return 0;
}

/* ---- projects paid by progress (报账) ------------------------------------- */

/* What the refused attempts need to know of a project paid by progress. */
struct gen_proj {
	int64_t paid_fen;     /* claimed over the year */
	int64_t budget_fen;
	int fund;
};

struct gen_claimplan {
	int day;
	int64_t fen;
	int inspection;       /* 文号 number of the inspection it rests on */
};

/* tmpl with its '@' replaced by value. */
static void fill(char *out, size_t size, const char *tmpl, const char *value)
{
	const char *at = strchr(tmpl, '@');

	if (!at)
		snprintf(out, size, "%s", tmpl);
	else
		snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl, value, at + 1);
}

static int gen_claim_project(struct gen *g, struct gen_files *pf, int p, int *last_unaccepted,
			     int *last_accepted, struct gen_proj *proj)
{
	int w = rnd(&g->rng, 100), k = 0;
	const struct gen_kind *kd;
	int v = rnd(&g->rng, g->nv), nvill = 1 + rnd(&g->rng, 3);
	char pcode[32], name[128], scale[128], tv[64], d1[11], d2[11], buf[32], contractor[96];
	int units, fund, approval, start, insp1, insp2, accept;
	int p1, p2;
	int64_t budget, paid = 0;
	struct gen_claimplan claims[4];
	int nclaims = 0;
	int docs[3];

	while (k + 1 < (int)NKINDS && w >= kinds[k].weight) {
		w -= kinds[k].weight;
		k++;
	}
	kd = &kinds[k];
	fund = pick_fund(g, kd->cat);
	snprintf(pcode, sizeof pcode, "P%d-%04d", g->year, p + 1);
	fill(name, sizeof name, kd->name, g->vname[v]);
	units = between(&g->rng, 8, 400);
	if (kd->per_unit_yuan >= 20000)
		units = between(&g->rng, 4, 40);
	budget = (int64_t)units * kd->per_unit_yuan * 100;
	if (budget < 5000000)
		budget = 5000000;
	budget = budget / 100000 * 100000 + 100000; /* whole thousands */
	snprintf(buf, sizeof buf, "%d", units);
	fill(scale, sizeof scale, kd->scale, buf);
	fill(tv, sizeof tv, kd->target_value, buf);
	snprintf(contractor, sizeof contractor, "%s%s%s", g->short_name, firm_words[rnd(&g->rng, 12)], kd->company);

	approval = day_of(g->year, 2, 1) + rnd(&g->rng, 120);
	start = approval + between(&g->rng, 7, 30);
	insp1 = start + between(&g->rng, 40, 70);
	insp2 = insp1 + between(&g->rng, 40, 70);
	accept = insp2 + between(&g->rng, 20, 50);
	p1 = between(&g->rng, 30, 60);
	p2 = between(&g->rng, 70, 95);
	/* the last days of the year are left to the refused attempts; the last
	 * project is still being built at the end of the year */
	if (accept > day_of(g->year, 12, 10) || p == g->sc->projects - 1)
		accept = -1;
	if (insp2 > day_of(g->year, 12, 10))
		insp2 = -1;

	fmt_day(g->year, approval, d1);
	w = approval + 90 + rnd(&g->rng, 150);
	fmt_day(g->year, w < day_of(g->year, 12, 31) ? w : day_of(g->year, 12, 31), d2);
	fprintf(pf->projects, "%s,%s,%s,", pcode, name, kd->cat);
	for (int i = 0; i < nvill; i++) {
		/* neighbours in the same township */
		int vv = v + i < g->nv && g->vtown[v + i] == g->vtown[v] ? v + i : v;
		if (i && vv == v)
			break;
		fprintf(pf->projects, "%s%s", i ? ";" : "", g->vcode[vv]);
	}
	fprintf(pf->projects, ",%s,%s%s,%s,%s,,%s,%s,%s\n", scale, g->cty->name, kd->unit,
		g->hh[rnd(&g->rng, g->nh)].name, contractor, kd->benefit, d1, d2);
	fprintf(pf->budgets, "%s,%s,%s\n", pcode, g->fund[fund].code, fen_str(budget, buf));
	fprintf(pf->targets, "%s,%s,%s,%s\n", pcode, kd->target_kind, kd->target_indicator, tv);
	if (rnd(&g->rng, 2))
		fprintf(pf->targets, "%s,满意度,受益群众满意度,≥90%%\n", pcode);
	fprintf(pf->events, "%s,approval,%s,,%s乡振发〔%d〕%d号,县级项目库入库并批复\n", pcode, d1, g->short_name,
		g->year, ++g->doc_seq);
	fmt_day(g->year, start, d1);
	fprintf(pf->events, "%s,start,%s,,,开工\n", pcode, d1);
	docs[0] = ++g->doc_seq;
	fmt_day(g->year, insp1, d1);
	fprintf(pf->events, "%s,inspection,%s,%d,%s乡振验〔%d〕%d号,中期检查\n", pcode, d1, p1, g->short_name,
		g->year, docs[0]);
	if (insp2 >= 0) {
		docs[1] = ++g->doc_seq;
		fmt_day(g->year, insp2, d1);
		fprintf(pf->events, "%s,inspection,%s,%d,%s乡振验〔%d〕%d号,主体完工检查\n", pcode, d1, p2,
			g->short_name, g->year, docs[1]);
	}
	if (accept >= 0) {
		docs[2] = ++g->doc_seq;
		fmt_day(g->year, accept, d1);
		fprintf(pf->events, "%s,acceptance,%s,,%s乡振验〔%d〕%d号,竣工验收合格\n", pcode, d1,
			g->short_name, g->year, docs[2]);
	}

	/* the advance, then up to each inspection's progress, then the rest after acceptance */
	claims[nclaims++] = (struct gen_claimplan){ start + between(&g->rng, 3, 15),
						    budget * between(&g->rng, 15, 28) / 100, docs[0] };
	claims[nclaims++] = (struct gen_claimplan){ insp1 + between(&g->rng, 2, 10),
						    budget * (p1 - 3) / 100, docs[0] };
	if (insp2 >= 0)
		claims[nclaims++] = (struct gen_claimplan){ insp2 + between(&g->rng, 2, 10),
							    budget * (p2 < 92 ? p2 - 2 : 90) / 100, docs[1] };
	if (accept >= 0)
		claims[nclaims++] = (struct gen_claimplan){ accept + between(&g->rng, 3, 12),
							    budget * between(&g->rng, 96, 100) / 100, docs[2] };
	for (int c = 0; c < nclaims; c++) {
		int64_t fen = claims[c].fen - paid;    /* cumulative target to this claim's amount */

		if (fen <= 0 || claims[c].day > day_of(g->year, 12, 20))
			continue;
		if (claims[c].fen < budget) /* contractors' invoices are not round; the last one is the rest */
			fen = fen / 100 * 100 + rnd(&g->rng, 100);
		paid += fen;
		g->fund[fund].spend_fen += fen;
		if (add_event(g, claims[c].day, g->fund[fund].account, EV_CLAIM, -fen, -1, 0, -1) < 0)
			return EM_ERR;
		{
			int r1 = between(&g->rng, 10000000, 89999999), nr = between(&g->rng, 1, 4);
			char receipts[64];

			receipts[0] = '\0';
			for (int r = 0; r < nr; r++)
				snprintf(receipts + strlen(receipts), sizeof receipts - strlen(receipts), "%s%d",
					 r ? "," : "", r1 + r);
			if (add_step(g, claims[c].day, 3,
				     "claim\t%s\t%s\t%s\t%s乡振验〔%d〕%d号\t%s乡振用〔%d〕%d号\t%sHT-%d-%04d\t%s\t%d",
				     pcode, g->fund[fund].code, fen_str(fen, buf), g->short_name, g->year,
				     claims[c].inspection, g->short_name, g->year, 100 + p, g->cty->code, g->year, p + 1,
				     receipts, nr) < 0)
				return EM_ERR;
		}
		g->lines += 4;
		g->sum->claims++;
	}
	if (accept < 0)
		*last_unaccepted = p;
	else
		*last_accepted = p;
	proj[p] = (struct gen_proj){ paid, budget, fund };
	return 0;
}

/* ---- bank: interest, statements, returns ---------------------------------- */

static int ev_cmp(const void *a, const void *b)
{
	const struct gen_event *x = a, *y = b;

	if (x->account != y->account)
		return x->account < y->account ? -1 : 1;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Quarterly interest (结息日 the 20th, credited the 21st), 0.35 % a year on the balance. */
static int gen_interest(struct gen *g)
{
	static const int qm[4] = { 3, 6, 9, 12 };
	char buf[32];

	qsort(g->ev, g->nev, sizeof *g->ev, ev_cmp);
	for (int a = 0; a < g->na; a++) {
		int64_t bal = 0, earned = 0;
		size_t i = 0;

		for (int q = 0; q < 4; q++) {
			int day = day_of(g->year, qm[q], 21);
			int64_t fen;

			while (i < g->nev && (g->ev[i].account < a || (g->ev[i].account == a && g->ev[i].day <= day))) {
				if (g->ev[i].account == a)
					bal += g->ev[i].fen;
				i++;
			}
			fen = (bal + earned) * 35 / 40000;
			if (fen <= 0)
				continue;
			earned += fen;
			if (add_event(g, day, a, EV_INTEREST, fen, -1, 0, -1) < 0 ||
			    add_step(g, day, 5, "interest\t%s\t%s", g->acct[a].no, fen_str(fen, buf)) < 0)
				return EM_ERR;
			g->lines += 2L * g->nf / g->na;
		}
	}
	return 0;
}

/* A few household payments come back (AC04: account closed), 3 days later. */
static int gen_returns(struct gen *g)
{
	size_t n = g->nev;
	long want = g->sc->returns_pcm;
	int forced = want == 0; /* the demo returns exactly one */

	for (size_t i = 0; i < n; i++) {
		struct gen_event e = g->ev[i];
		char e2e[48];

		if (e.kind != EV_HHPAY)
			continue;
		if (forced ? g->sum->returns > 0 || e.line != 3 : rnd(&g->rng, 100000) >= want)
			continue;
		snprintf(e2e, sizeof e2e, "%.24s-%06d", g->bcode[e.batch], e.line);
		if (add_event(g, e.day + 2, e.account, EV_RETURN, -e.fen, e.batch, e.line, e.hh) < 0)
			return EM_ERR;
		/* re-issued after the month's statement is matched and the return posted */
		{
			int m = month_of(g->year, e.day);
			if (add_step(g, day_of(g->year, m, mdays(g->year, m)), 7, "reissue\t%s", e2e) < 0)
				return EM_ERR;
		}
		g->sum->returns++;
		g->lines += 4;
	}
	return 0;
}

static void xml_amount(FILE *f, int64_t fen)
{
	char buf[32];

	fprintf(f, "<Amt Ccy=\"CNY\">%s</Amt><CdtDbtInd>%s</CdtDbtInd>", fen_str(fen < 0 ? -fen : fen, buf),
		fen < 0 ? "DBIT" : "CRDT");
}

static int gen_statements(struct gen *g)
{
	qsort(g->ev, g->nev, sizeof *g->ev, ev_cmp);
	for (int a = 0; a < g->na; a++) {
		int64_t bal = 0;
		size_t i = 0;

		while (i < g->nev && g->ev[i].account < a)
			i++;
		for (int m = 1; m <= 12; m++) {
			int first = day_of(g->year, m, 1), last = first + mdays(g->year, m) - 1;
			char name[96], d[11], from[11], to[11], prev[11];
			int64_t open = bal;
			size_t j;
			FILE *f;

			for (j = i; j < g->nev && g->ev[j].account == a && g->ev[j].day <= last; j++)
				bal += g->ev[j].fen;
			/* a month without movements has no statement; the next one opens where the last closed */
			if (j == i)
				continue;
			snprintf(name, sizeof name, "statements/%s-%d-%02d.xml", g->acct[a].no, g->year, m);
			if (!(f = open_out(g, name)))
				return EM_ERR;
			fmt_day(g->year, first, from);
			fmt_day(g->year, last, to);
			fmt_day(g->year, first > 0 ? first - 1 : 0, prev);
			fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				   "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>"
				   "<GrpHdr><MsgId>%s-%d-%02d</MsgId><CreDtTm>%sT06:00:00+08:00</CreDtTm></GrpHdr>"
				   "<Stmt><Id>%s-%d-%02d</Id><CreDtTm>%sT06:00:00+08:00</CreDtTm>"
				   "<FrToDt><FrDtTm>%sT00:00:00+08:00</FrDtTm><ToDtTm>%sT23:59:59+08:00</ToDtTm></FrToDt>"
				   "<Acct><Id><Othr><Id>%s</Id></Othr></Id><Ccy>CNY</Ccy></Acct>\n",
				g->acct[a].no, g->year, m, to, g->acct[a].no, g->year, m, to, from, to, g->acct[a].no);
			fprintf(f, "<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>");
			xml_amount(f, open);
			fprintf(f, "<Dt><Dt>%s</Dt></Dt></Bal>\n<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>", prev);
			xml_amount(f, bal);
			fprintf(f, "<Dt><Dt>%s</Dt></Dt></Bal>\n", to);
			for (; i < j; i++) {
				const struct gen_event *e = &g->ev[i];
				static const char *const code[] = { "TRF", "TRF", "TRF", "RTRN", "INT" };

				fmt_day(g->year, e->day, d);
				fprintf(f, "<Ntry>");
				xml_amount(f, e->fen);
				fprintf(f, "<Sts>BOOK</Sts><BookgDt><Dt>%s</Dt></BookgDt><BkTxCd><Prtry><Cd>%s</Cd></Prtry></BkTxCd>",
					d, code[e->kind]);
				if (e->kind == EV_HHPAY || e->kind == EV_RETURN) {
					fprintf(f, "<NtryDtls><TxDtls><Refs><EndToEndId>%.24s-%06d</EndToEndId></Refs>"
						   "<RltdPties><%s><Nm>%s</Nm></%s></RltdPties>",
						g->bcode[e->batch], e->line, e->kind == EV_HHPAY ? "Cdtr" : "Dbtr",
						g->hh[e->hh].name, e->kind == EV_HHPAY ? "Cdtr" : "Dbtr");
					if (e->kind == EV_RETURN)
						fprintf(f, "<RmtInf><Ustrd>退汇 收款账户已销户</Ustrd></RmtInf>"
							   "<RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>");
					fprintf(f, "</TxDtls></NtryDtls>");
				}
				fprintf(f, "</Ntry>\n");
			}
			fprintf(f, "</Stmt></BkToCstmrStmt></Document>\n");
			if (close_out(g, f, name) < 0)
				return EM_ERR;
			if (add_step(g, last, 6, "statement\t%s\t%s", g->acct[a].no, name) < 0)
				return EM_ERR;
			g->sum->statements++;
		}
	}
	/* months close once their statements are matched; December stays open */
	for (int m = 1; m <= 11; m++)
		if (add_step(g, day_of(g->year, m, mdays(g->year, m)), 8, "close\t%d-%02d", g->year, m) < 0)
			return EM_ERR;
	return 0;
}

/* ---- the attempts the rules refuse ---------------------------------------- */

static int gen_refused(struct gen *g, int unaccepted, int accepted, const struct gen_proj *proj)
{
	FILE *r, *f;
	char buf[32];
	const struct gen_fund *f0 = &g->fund[0];
	int other = g->nf > 1 ? 1 : 0;

	while (other < g->nf && g->fund[other].account == f0->account)
		other++;
	if (other >= g->nf)
		other = g->nf - 1;
	if (!(r = open_out(g, "refused.tsv")))
		return EM_ERR;
	/* expect: a text the refusal must contain, or "-" for a setup step that must succeed */
	fprintf(r, "# expect\tdate\tkind\targuments (tests/load-book runs each; none may succeed)\n");

	/* H1: an ID number with a wrong check digit */
	if (!(f = open_out(g, "refused/households_bad_id.csv")))
		goto fail;
	{
		char id[EM_ID_LEN + 1];
		snprintf(id, sizeof id, "%s", g->hh[0].id);
		id[17] = id[17] == '0' ? '1' : '0';
		fprintf(f, "code,village,head_name,id_no,members\nH999001,%s,%s,%s,3\n", g->vcode[0], g->hh[0].name, id);
	}
	if (close_out(g, f, "refused/households_bad_id.csv") < 0)
		goto fail;
	fprintf(r, "check digit\t%d-12-21\timport\thousehold\trefused/households_bad_id.csv\n", g->year);

	/* a village code of 11 digits */
	if (!(f = open_out(g, "refused/villages_bad_code.csv")))
		goto fail;
	fprintf(f, "code,name,township,county\n%.11s,新建村,%s,%s\n", g->vcode[0], g->tname[0], g->cty->name);
	if (close_out(g, f, "refused/villages_bad_code.csv") < 0)
		goto fail;
	fprintf(r, "12\t%d-12-21\timport\tvillage\trefused/villages_bad_code.csv\n", g->year);

	/* D2: balances in total, not per fund */
	if (!(f = open_out(g, "refused/voucher_cross_fund.csv")))
		goto fail;
	fprintf(f, "account,side,amount,fund,project,village,household,bank_account,category,memo\n"
		   "5001,D,1000.00,%s,,%s,,,CY,用甲资金的费用\n1002,C,1000.00,%s,,%s,,%s,,从乙资金专户付款\n",
		f0->code, g->vcode[0], g->fund[other].code, g->vcode[0], g->acct[g->fund[other].account].no);
	if (close_out(g, f, "refused/voucher_cross_fund.csv") < 0)
		goto fail;
	fprintf(r, "(D2)\t%d-12-21\tvoucher\trefused/voucher_cross_fund.csv\n", g->year);

	/* A3: wages are on the negative list */
	if (!(f = open_out(g, "refused/voucher_negative_list.csv")))
		goto fail;
	fprintf(f, "account,side,amount,fund,project,village,household,bank_account,category,memo\n"
		   "5001,D,12000.00,%s,,,,,NX07,乡镇干部加班补贴\n2307,C,12000.00,%s,,,,,,应付补贴\n",
		f0->code, f0->code);
	if (close_out(g, f, "refused/voucher_negative_list.csv") < 0)
		goto fail;
	fprintf(r, "(A3)\t%d-12-21\tvoucher\trefused/voucher_negative_list.csv\n", g->year);

	/* A2: paying ten times what the fund ever had */
	if (!(f = open_out(g, "refused/voucher_overdraft.csv")))
		goto fail;
	fprintf(f, "account,side,amount,fund,project,village,household,bank_account,category,memo\n"
		   "2307,D,%s,%s,,,,,,超额支付\n", fen_str(f0->amount_fen * 10, buf), f0->code);
	fprintf(f, "1002,C,%s,%s,,,,%s,,超额支付\n", buf, f0->code, g->acct[f0->account].no);
	if (close_out(g, f, "refused/voucher_overdraft.csv") < 0)
		goto fail;
	fprintf(r, "(A2)\t%d-12-21\tvoucher\trefused/voucher_overdraft.csv\n", g->year);

	/* D7: a voucher dated in a closed month */
	fprintf(r, "(D7)\t%d-03-15\tvoucher\trefused/voucher_negative_list.csv\n", g->year);

	/* P4: a claim without its inspection record */
	if (unaccepted >= 0) {
		char pc[32];
		snprintf(pc, sizeof pc, "P%d-%04d", g->year, unaccepted + 1);
		fprintf(r, "(P4)\t%d-12-22\tclaim\t%s\t%s\t%s\t-\t%s乡振用〔%d〕1号\tHT-1\t10000001\t1\n", g->year, pc,
			g->fund[proj[unaccepted].fund].code, "1000.00", g->short_name, g->year);
		/* P3: the rest of its budget before acceptance (the retention is kept) */
		fprintf(r, "(P3)\t%d-12-22\tclaim\t%s\t%s\t%s\t%s乡振验〔%d〕1号\t%s乡振用〔%d〕1号\tHT-1\t10000002\t1\n",
			g->year, pc, g->fund[proj[unaccepted].fund].code,
			fen_str(proj[unaccepted].budget_fen - proj[unaccepted].paid_fen, buf), g->short_name, g->year,
			g->short_name, g->year);
	}
	/* P2: a whole budget again on an accepted project */
	if (accepted >= 0) {
		char pc[32];
		snprintf(pc, sizeof pc, "P%d-%04d", g->year, accepted + 1);
		fprintf(r, "(P2)\t%d-12-22\tclaim\t%s\t%s\t%s\t%s乡振验〔%d〕1号\t%s乡振用〔%d〕1号\tHT-1\t10000003\t1\n",
			g->year, pc, g->fund[proj[accepted].fund].code, fen_str(proj[accepted].budget_fen, buf),
			g->short_name, g->year, g->short_name,
			g->year);
	}

	/*
	 * H3 and H2 on the first programme (务工交通补贴, which every scale runs
	 * and no cap limits): a list published on 18 December paid on the 22nd,
	 * inside its notice period; the first lines of its first batch again.
	 */
	{
		char pc[32], bpath[4200], line[512], fund[24] = "";
		int m0 = 1, n = 0;
		FILE *b;

		while (m0 < 12 && !(g->sc->months & (1u << (m0 - 1))))
			m0++;
		snprintf(pc, sizeof pc, "P%d-0001", g->year);
		snprintf(bpath, sizeof bpath, "%s/batches/B%d%02d-01.csv", g->dir, g->year, m0);
		if (!(f = open_out(g, "refused/list_late.csv")))
			goto fail;
		fprintf(f, "household,amount,item,cost,standard\n");
		for (int i = 0; i < g->nh && n < 3; i += 1 + g->nh / 5, n++)
			fprintf(f, "H%06d,300.00,%d年冬季务工交通补贴,,每人300元\n", i + 1, g->year);
		if (close_out(g, f, "refused/list_late.csv") < 0)
			goto fail;
		if ((b = fopen(bpath, "r"))) {
			if (fgets(line, sizeof line, b) && fgets(line, sizeof line, b))
				sscanf(line, "%*[^,],%*[^,],%*[^,],%23[^,]", fund);
			fclose(b);
		}
		if (!(f = open_out(g, "refused/batch_late.csv")))
			goto fail;
		fprintf(f, "household,amount,project,fund,category,list,item,memo\n");
		n = 0;
		for (int i = 0; i < g->nh && n < 3; i += 1 + g->nh / 5, n++)
			fprintf(f, "H%06d,300.00,%s,%s,JY,L%d12-REF,%d年冬季务工交通补贴,冬季务工交通补贴\n", i + 1, pc,
				fund, g->year, g->year);
		if (close_out(g, f, "refused/batch_late.csv") < 0)
			goto fail;
		fprintf(r, "-\t%d-12-18\tlist\tL%d12-REF\trefused/list_late.csv\t%s\t%d年冬季务工交通补贴对象公示\n",
			g->year, g->year, pc, g->year);
		fprintf(r, "-\t%d-12-18\tpublish\tL%d12-REF\t10\n", g->year, g->year);
		fprintf(r, "(H3)\t%d-12-22\tbatch\tB%d12-REF\trefused/batch_late.csv\n", g->year, g->year);
		if (!(f = open_out(g, "refused/batch_twice.csv")))
			goto fail;
		if ((b = fopen(bpath, "r"))) {
			for (int k = 0; k < 4 && fgets(line, sizeof line, b); k++)
				fputs(line, f);
			fclose(b);
		}
		if (close_out(g, f, "refused/batch_twice.csv") < 0)
			goto fail;
		fprintf(r, "(H2)\t%d-12-23\tbatch\tB%d12-TWICE\trefused/batch_twice.csv\n", g->year, g->year);
	}
	g->sum->refused += 11;
	return close_out(g, r, "refused.tsv");
fail:
	fclose(r);
	return EM_ERR;
}

/* ---- one county ------------------------------------------------------------ */

static int step_cmp(const void *a, const void *b)
{
	const struct gen_step *x = a, *y = b;

	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int mkdir_in(struct gen *g, const char *sub)
{
	char path[4200];

	snprintf(path, sizeof path, "%s%s%s", g->dir, *sub ? "/" : "", sub);
	if (mkdir(path, 0777) < 0 && errno != EEXIST)
		return em_error_set(g->err, "cannot create directory '%s': %s", path, strerror(errno));
	return 0;
}

static int gen_county(struct gen *g)
{
	struct gen_files pf = { NULL, NULL, NULL, NULL };
	FILE *f = NULL;
	char buf[32], d[11];
	int np = g->sc->projects, p = 0, unaccepted = -1, accepted = -1, bad;
	struct gen_proj *proj = calloc((size_t)np, sizeof *proj);
	int ret = EM_ERR;

	if (!proj) {
		em_error_set(g->err, "out of memory generating county %s", g->cty->code);
		goto out;
	}
	snprintf(g->short_name, sizeof g->short_name, "%.*s", (int)strlen(g->cty->name) - 3, g->cty->name);
	if (mkdir_in(g, "") < 0 || mkdir_in(g, "lists") < 0 || mkdir_in(g, "batches") < 0 ||
	    mkdir_in(g, "vouchers") < 0 || mkdir_in(g, "statements") < 0 || mkdir_in(g, "refused") < 0)
		goto out;
	if (gen_villages(g) < 0 || gen_households(g) < 0 || gen_funds(g) < 0)
		goto out;

	if (!(pf.projects = open_out(g, "projects.csv")) || !(pf.budgets = open_out(g, "project_budgets.csv")) ||
	    !(pf.targets = open_out(g, "project_targets.csv")) || !(pf.events = open_out(g, "project_events.csv")))
		goto out;
	fprintf(pf.projects, "code,name,category,villages,scale,implementing_unit,responsible,contractor,"
			     "subsidy_standard,benefit_mechanism,planned_start,planned_end\n");
	fprintf(pf.budgets, "project,fund,amount\n");
	fprintf(pf.targets, "project,kind,indicator,value\n");
	fprintf(pf.events, "project,kind,date,progress,doc_no,note\n");
	for (int pi = 0; pi < (int)NPROGRAMMES; pi++)
		if ((g->sc->programmes >> pi) & 1u && gen_programme(g, &pf, p++, pi) < 0)
			goto out;
	for (; p < np; p++)
		if (gen_claim_project(g, &pf, p, &unaccepted, &accepted, proj) < 0)
			goto out;
	bad = close_out(g, pf.projects, "projects.csv") < 0;
	bad |= close_out(g, pf.budgets, "project_budgets.csv") < 0;
	bad |= close_out(g, pf.targets, "project_targets.csv") < 0;
	bad |= close_out(g, pf.events, "project_events.csv") < 0;
	if (bad) {
		pf = (struct gen_files){ NULL, NULL, NULL, NULL };
		goto out;
	}
	pf = (struct gen_files){ NULL, NULL, NULL, NULL };

	/* the funds: what is spent from each and a margin, all received in January */
	if (!(f = open_out(g, "bank_accounts.csv")))
		goto out;
	fprintf(f, "account_no,bank_name,cnaps,holder\n");
	for (int a = 0; a < g->na; a++)
		fprintf(f, "%s,%s%s支行,%s%.3s%06d,%s财政局衔接资金专户%d\n", g->acct[a].no, banks[g->acct[a].bank].name,
			g->cty->name, banks[g->acct[a].bank].cnaps, g->cty->code + 3, 10 + a, g->cty->name, a + 1);
	if (close_out(g, f, "bank_accounts.csv") < 0 || !(f = open_out(g, "funds.csv"))) {
		f = NULL;
		goto out;
	}
	fprintf(f, "code,name,level,type,year,doc_no,amount,bank_account,categories,received_on\n");
	for (int k = 0; k < g->nf; k++) {
		struct gen_fund *fu = &g->fund[k];
		char doc[96], vfile[64];
		FILE *v;
		int first = 1;

		fu->amount_fen = (fu->spend_fen + fu->spend_fen / 12) / 1000000 * 1000000 + 50000000;
		/* the bank matches arrivals by amount and date: no two alike on one account */
		for (int j = 0; j < k; j++)
			if (g->fund[j].account == fu->account && g->fund[j].amount_fen == fu->amount_fen) {
				fu->amount_fen += 1000000;
				j = -1;
			}
		/* central funds are allocated in advance (提前下达), in the year before */
		if (fu->level == 0)
			snprintf(doc, sizeof doc, "财农〔%d〕%d号", g->year - 1, fu->doc_no);
		else if (fu->level == 1)
			snprintf(doc, sizeof doc, "陕财办农〔%d〕%d号", g->year, fu->doc_no);
		else
			snprintf(doc, sizeof doc, "%s财%s〔%d〕%d号", fu->level == 2 ? g->cty->city : g->short_name,
				 fu->level == 2 ? "农" : "发", g->year, fu->doc_no);
		fmt_day(g->year, fu->receipt_day, d);
		int nth = 1;

		for (int j = 0; j < k; j++)
			nth += g->fund[j].level == fu->level;
		fprintf(f, "%s,%s（第%d批）,%s,衔接资金,%d,%s,%s,%s,", fu->code, fund_names[fu->level], nth,
			level_names[fu->level], g->year, doc,
			fen_str(fu->amount_fen, buf), g->acct[fu->account].no);
		for (int c = 0; c < NCATS; c++)
			if (fu->cats & (1u << c)) {
				fprintf(f, "%s%s", first ? "" : ";", categories_all[c]);
				first = 0;
			}
		fprintf(f, ",%s\n", d);
		snprintf(vfile, sizeof vfile, "vouchers/R-%s.csv", fu->code);
		if (!(v = open_out(g, vfile)))
			goto out;
		fprintf(v, "account,side,amount,fund,project,village,household,bank_account,category,memo\n");
		fprintf(v, "1002,D,%s,%s,,,,%s,,收到%s %s\n", buf, fu->code, g->acct[fu->account].no, fund_names[fu->level], doc);
		fprintf(v, "4001,C,%s,%s,,,,,,收到%s %s\n", buf, fu->code, fund_names[fu->level], doc);
		if (close_out(g, v, vfile) < 0 ||
		    add_event(g, fu->receipt_day, fu->account, EV_RECEIPT, fu->amount_fen, -1, 0, -1) < 0 ||
		    add_step(g, fu->receipt_day, 0, "receipt\t%s\t收到%s", vfile, fund_names[fu->level]) < 0)
			goto out;
		g->lines += 2;
	}
	if (close_out(g, f, "funds.csv") < 0) {
		f = NULL;
		goto out;
	}
	f = NULL;

	if (gen_interest(g) < 0 || gen_returns(g) < 0 || gen_statements(g) < 0 ||
	    gen_refused(g, unaccepted, accepted, proj) < 0)
		goto out;

	qsort(g->st, g->nst, sizeof *g->st, step_cmp);
	if (!(f = open_out(g, "steps.tsv")))
		goto out;
	fprintf(f, "# date\tkind\targuments (tests/load-book runs them in this order)\n");
	for (size_t i = 0; i < g->nst; i++) {
		fmt_day(g->year, g->st[i].day, d);
		fprintf(f, "%s\t%s\n", d, g->st[i].text);
	}
	if (close_out(g, f, "steps.tsv") < 0 || !(f = open_out(g, "book.txt"))) {
		f = NULL;
		goto out;
	}
	fprintf(f, "code\tC%s\nname\t%s%d年财政衔接推进乡村振兴补助资金\nstart\t%d-01-01\ncounty\t%s\nyear\t%d\n",
		g->cty->code, g->cty->name, g->year, g->year, g->cty->code, g->year);
	if (close_out(g, f, "book.txt") < 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	g->sum->counties++;
	g->sum->villages += g->nv;
	g->sum->households += g->nh;
	g->sum->projects += np;
	g->sum->funds += g->nf;
	g->sum->lines += g->lines;
	ret = 0;
out:
	if (f)
		fclose(f);
	if (pf.projects)
		fclose(pf.projects);
	if (pf.budgets)
		fclose(pf.budgets);
	if (pf.targets)
		fclose(pf.targets);
	if (pf.events)
		fclose(pf.events);
	free(proj);
	return ret;
}

static void gen_release(struct gen *g)
{
	for (size_t i = 0; i < g->nst; i++)
		free(g->st[i].text);
	free(g->st);
	free(g->ev);
	free(g->bcode);
	free(g->hh);
	free(g->fund);
	free(g->vcode);
	free(g->vname);
	free(g->vtown);
	free(g->tname);
}

static int dir_usable(const char *path, struct em_error *err)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d) {
		if (errno == ENOENT) {
			if (mkdir(path, 0777) == 0)
				return 0;
			return em_error_set(err, "cannot create directory '%s': %s", path, strerror(errno));
		}
		return em_error_set(err, "cannot open directory '%s': %s", path, strerror(errno));
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			closedir(d);
			em_error_set(err, "directory '%s' is not empty", path);
			em_error_hint(err, "generate into a new directory, so that no old file mixes with the new books");
			return EM_ERR;
		}
	closedir(d);
	return 0;
}

int em_generate(const struct em_gen_opts *o, struct em_gen_summary *sum, struct em_error *err)
{
	const struct gen_scale *sc = NULL;
	char path[4200];
	FILE *f;

	memset(sum, 0, sizeof *sum);
	for (size_t i = 0; i < sizeof scales / sizeof scales[0]; i++)
		if (strcmp(scales[i].name, o->scale) == 0)
			sc = &scales[i];
	if (!sc) {
		em_error_set(err, "unknown scale '%.40s'", o->scale);
		em_error_hint(err, "the scales are demo, county (300 villages, 50,000 households, 2,000 projects) "
				   "and province (100 counties)");
		return EM_ERR_USAGE;
	}
	if (o->year < 2000 || o->year > 9999)
		return em_error_set(err, "year %d is out of range", o->year);
	if (strlen(o->out) > 3800)
		return em_error_set(err, "output path is too long");
	if (dir_usable(o->out, err) < 0)
		return EM_ERR;
	for (int c = 0; c < sc->counties; c++) {
		struct gen g;
		int ret;

		memset(&g, 0, sizeof g);
		g.o = o;
		g.sc = sc;
		g.cty = &counties[c];
		g.sum = sum;
		g.err = err;
		g.year = o->year;
		g.rng = o->seed * 0x100000001b3u + (uint64_t)c * 0x9e3779b97f4a7c15u + (uint64_t)o->year;
		snprintf(g.dir, sizeof g.dir, "%s/%s", o->out, g.cty->code);
		ret = gen_county(&g);
		gen_release(&g);
		if (ret < 0)
			return ret;
	}
	snprintf(path, sizeof path, "%s/manifest.txt", o->out);
	if (!(f = fopen(path, "w")))
		return em_error_set(err, "cannot write '%s': %s", path, strerror(errno));
	fprintf(f, "scale\t%s\nseed\t%" PRIu64 "\nyear\t%d\ncounties\t%d\nvillages\t%ld\nhouseholds\t%ld\n"
		   "projects\t%ld\nfunds\t%ld\nbatches\t%ld\nclaims\t%ld\nstatements\t%ld\nreturns\t%ld\n"
		   "lines\t%ld\nrefused\t%ld\n",
		sc->name, o->seed, o->year, sum->counties, sum->villages, sum->households, sum->projects, sum->funds,
		sum->batches, sum->claims, sum->statements, sum->returns, sum->lines, sum->refused);
	if (ferror(f) | (fclose(f) != 0))
		return em_error_set(err, "writing '%s' failed", path);
	return 0;
}
