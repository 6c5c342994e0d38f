# tests/bench/gen-county.awk: a synthetic county for the benchmarks, the
# same bytes on every run and every machine.
#
#   awk -v out=DIR -v households=100000 -v villages=400 -v seed=20261123 \
#       -v receipt_date=D -v approval_date=D -f gen-county.awk
#
# writes into DIR the master data files earmark imports (villages,
# households, bank_accounts, funds, projects, project_budgets,
# project_targets, project_events), one receipt voucher per fund
# (receipt_<FUND>.csv), the beneficiary list (list.csv) and the payment
# batch (batch.csv) paying every household exactly what the list grants.
#
# Random choices come from the Park-Miller generator (x * 16807 mod 2^31-1),
# not awk's rand(): mawk and gawk differ there, and the products stay below
# 2^53, so every awk computes them exactly.  ID numbers are unique by
# construction (birth date and sequence number are digits of the household's
# index) and carry the GB 11643 check digit; bank cards the Luhn digit.
# Amounts are plain "1234.56", which both earmark and COPY read.

function rnd(n) {                 # 0 .. n-1
	x = (x * 16807) % 2147483647
	return x % n
}

function id_check(s,    i, sum) {
	sum = 0
	for (i = 1; i <= 17; i++)
		sum += substr(s, i, 1) * W[i]
	return substr("10X98765432", sum % 11 + 1, 1)
}

function luhn(s,    i, d, sum, dbl) {  # the digit that makes s valid
	sum = 0
	dbl = 1
	for (i = length(s); i >= 1; i--) {
		d = substr(s, i, 1) + 0
		if (dbl) {
			d *= 2
			if (d > 9)
				d -= 9
		}
		sum += d
		dbl = !dbl
	}
	return (10 - sum % 10) % 10
}

function money(fen) {
	return sprintf("%d.%02d", int(fen / 100), fen % 100)
}

BEGIN {
	if (out == "" || households + 0 <= 0 || villages + 0 <= 0 || receipt_date == "" || approval_date == "") {
		print "gen-county.awk: out, households, villages, receipt_date and approval_date are required" > "/dev/stderr"
		exit 2
	}
	x = (seed + 0 > 0) ? seed % 2147483647 : 20261123
	split("7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2", W, " ")
	nsur = split("王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 马 胡 朱 郭 何 罗 高 林 郑 梁 谢 宋 唐 许 韩 冯 邓 曹", SUR, " ")
	ngiv = split("建 国 秀 英 长 生 明 华 军 平 桂 兰 志 强 文 海 玉 梅 成 福 春 花 德 山 金 凤 永 红 保 安", GIV, " ")
	ntown = split("城关镇 河口镇 王家砭镇 刘家山乡 坑镇 店镇 乌镇 金明寺镇 通镇 官庄乡 木头峪乡 大佛寺乡 朱家坬镇 螅镇 方塌镇 兴隆寺乡 康家港乡 峪口乡 上高寨乡 朱官寨镇", TOWN, " ")
	nsuf = split("家村 家沟村 家湾村 家坪村 家庄村 家塬村 家峁村 家岔村", SUF, " ")
	county = "平安县"

	# Villages: 12-digit codes 610826 TTT VVV, townships of 20 or so villages.
	f = out "/villages.csv"
	print "code,name,township,county" > f
	per_town = int((villages + ntown - 1) / ntown)
	for (v = 0; v < villages; v++) {
		t = int(v / per_town)
		VCODE[v] = sprintf("610826%03d%03d", 101 + t, 201 + v % per_town)
		printf "%s,%s%s%d,%s,%s\n", VCODE[v], SUR[rnd(nsur) + 1], SUF[rnd(nsuf) + 1], v + 1,
		       TOWN[t % ntown + 1], county > f
		allv = allv (v ? ";" : "") VCODE[v]
	}
	close(f)

	# Two funds, central and provincial, each in its own dedicated account.
	FUND[1] = "ZY-BENCH"; FUNDNAME[1] = "中央财政衔接推进乡村振兴补助资金"; LEVEL[1] = "central"
	ACCT[1] = "622848001100000001"; BANK[1] = "中国农业银行平安县支行"; CNAPS[1] = "103456000011"
	FUND[2] = "SJ-BENCH"; FUNDNAME[2] = "省级财政衔接推进乡村振兴补助资金"; LEVEL[2] = "province"
	ACCT[2] = "621700002200000002"; BANK[2] = "中国建设银行平安县支行"; CNAPS[2] = "105456000022"
	year = substr(receipt_date, 1, 4)
	big = 100000000000            # 1,000,000,000.00: far beyond any batch here
	f = out "/bank_accounts.csv"
	print "account_no,bank_name,cnaps,holder" > f
	for (k = 1; k <= 2; k++)
		printf "%s,%s,%s,平安县财政局%s专户\n", ACCT[k], BANK[k], CNAPS[k], FUNDNAME[k] > f
	close(f)
	f = out "/funds.csv"
	print "code,name,level,type,year,doc_no,amount,bank_account,categories,received_on" > f
	for (k = 1; k <= 2; k++)
		printf "%s,%s,%s,衔接资金,%s,财农〔%s〕%d号,%s,%s,CY;JC;WF;JY,%s\n", FUND[k], FUNDNAME[k],
		       LEVEL[k], year, year, k, money(big), ACCT[k], receipt_date > f
	close(f)
	for (k = 1; k <= 2; k++) {
		f = out "/receipt_" FUND[k] ".csv"
		print "account,side,amount,fund,project,village,household,bank_account,category,memo" > f
		printf "1002,D,%s,%s,,,,%s,,收到%s\n", money(big), FUND[k], ACCT[k], FUNDNAME[k] > f
		printf "4001,C,%s,%s,,,,,,收到%s\n", money(big), FUND[k], FUNDNAME[k] > f
		close(f)
	}

	# One project of 产业奖补 to households, in every village.
	P = "P-BENCH-01"
	f = out "/projects.csv"
	print "code,name,category,villages,scale,implementing_unit,responsible,contractor,subsidy_standard,benefit_mechanism,planned_start,planned_end" > f
	printf "%s,%s年产业发展到户奖补,CY,%s,%d户产业奖补,平安县乡村振兴局,刘明,,每户500元至5000元,发展种养殖产业 户均增收,%s,%s-12-31\n",
	       P, year, allv, households, approval_date, year > f
	close(f)
	f = out "/project_budgets.csv"
	print "project,fund,amount" > f
	for (k = 1; k <= 2; k++)
		printf "%s,%s,%s\n", P, FUND[k], money(big) > f
	close(f)
	f = out "/project_targets.csv"
	print "project,kind,indicator,value" > f
	printf "%s,产出,奖补到户数,%d户\n", P, households > f
	printf "%s,效益,户均增收,≥800元\n", P > f
	close(f)
	f = out "/project_events.csv"
	print "project,kind,date,progress,doc_no,note" > f
	printf "%s,approval,%s,,平乡振发〔%s〕1号,县级项目库入库并批复\n", P, approval_date, year > f
	close(f)

	# Households, the list and the batch, in one pass.
	fh = out "/households.csv"
	fl = out "/list.csv"
	fb = out "/batch.csv"
	print "code,village,head_name,id_no,members,bank_card,bank_cnaps,phone,status,status_from" > fh
	print "household,amount,item,standard" > fl
	print "household,amount,project,fund,category,list,item,memo" > fb
	for (i = 0; i < households; i++) {
		h = sprintf("H%07d", i + 1)
		v = int(i * villages / households)
		# birth date and sequence number: mixed-radix digits of i, so unique
		id17 = sprintf("610826%04d%02d%02d%03d", 1940 + i % 60, 1 + int(i / 60) % 12,
		               1 + int(i / 720) % 28, int(i / 20160))
		k = (i % 3 == 2) ? 2 : 1
		card = sprintf("6228480%011d", i + 1)
		name = SUR[rnd(nsur) + 1] GIV[rnd(ngiv) + 1] (rnd(3) ? GIV[rnd(ngiv) + 1] : "")
		s = rnd(10)
		status = s < 3 ? "脱贫户" : s < 4 ? "监测户" : "一般户"
		printf "%s,%s,%s,%s%s,%d,%s%d,%s,1%d%09d,%s,%s\n", h, VCODE[v], name, id17, id_check(id17),
		       1 + rnd(6), card, luhn(card), CNAPS[k], 3 + rnd(7), rnd(1000000000), status,
		       s < 4 ? 2016 + rnd(8) : "" > fh
		fen = 50000 + rnd(450001)
		printf "%s,%s,产业奖补,每户500元至5000元\n", h, money(fen) > fl
		printf "%s,%s,%s,%s,CY,L-BENCH-01,产业奖补,%s年产业奖补\n", h, money(fen), P, FUND[k], year > fb
	}
	close(fh)
	close(fl)
	close(fb)
}
