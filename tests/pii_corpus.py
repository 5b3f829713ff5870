# ruff: noqa: E501 (a table reads best one case per line)
"""The masking corpus (SPEC §6): ticket sentences with personal data in many spellings, each with the text
staging must produce, and ordinary sentences that must come out unchanged. Classes, not strings: each
class has several shapes, separators and surroundings.

`render_mask_sql` renders voc_mask_pii for a target with one dbt call; `mask_corpus` runs every corpus
text through that SQL with any executor (DuckDB here; a BigQuery emulator can plug in the same way).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import NamedTuple

from flows.settings import VocSettings
from flows.warehouse.dbt import invoke_dbt


class Case(NamedTuple):
    """One corpus row: a readable id, the ticket text, and the text after masking."""

    id: str
    text: str
    masked: str


# fmt: off
PHONES = [
    Case("phone-hyphen", "연락처 010-1234-5678 로 부탁드립니다", "연락처 [전화번호] 로 부탁드립니다"),
    Case("phone-glued-digits", "제 번호는 01098765432 입니다", "제 번호는 [전화번호] 입니다"),
    Case("phone-parenthesized-area", "(010) 1234-5678 로 전화 주세요", "[전화번호] 로 전화 주세요"),
    Case("phone-spaced-hyphens", "010 - 1234 - 5678 로 연락 바랍니다", "[전화번호] 로 연락 바랍니다"),
    Case("phone-en-dash", "번호 010–1234–5678 입니다", "번호 [전화번호] 입니다"),
    Case("phone-em-dash", "번호 010—1234—5678 입니다", "번호 [전화번호] 입니다"),
    Case("phone-minus-sign", "번호 010−1234−5678 입니다", "번호 [전화번호] 입니다"),
    Case("phone-hangul-eu", "핸드폰 010ㅡ1234ㅡ5678 이에요", "핸드폰 [전화번호] 이에요"),
    Case("phone-tilde", "010~1234~5678 로 문자 주세요", "[전화번호] 로 문자 주세요"),
    Case("phone-dots", "010.1234.5678 으로 연락주세요", "[전화번호] 으로 연락주세요"),
    Case("phone-spaces", "휴대폰 010 1234 5678 입니다", "휴대폰 [전화번호] 입니다"),
    Case("phone-slashes", "연락처: 010/1234/5678", "연락처: [전화번호]"),
    Case("phone-country-82-hyphen", "해외에서 82-10-1234-5678 로 걸었어요", "해외에서 [전화번호] 로 걸었어요"),
    Case("phone-country-plus82", "+82 10-1234-5678 로 연락 부탁", "[전화번호] 로 연락 부탁"),
    Case("phone-country-plus82-zero", "+82 (0)10-1234-5678 입니다", "[전화번호] 입니다"),
    Case("phone-country-glued", "+821012345678 로 인증번호가 안 와요", "[전화번호] 로 인증번호가 안 와요"),
    Case("phone-country-seoul", "회사 +82-2-123-4567 로 연락주세요", "회사 [전화번호] 로 연락주세요"),
    Case("phone-glued-tel", "tel010-1234-5678", "tel[전화번호]"),
    Case("phone-glued-korean-before", "번호010-1234-5678 확인 부탁", "번호[전화번호] 확인 부탁"),
    Case("phone-glued-korean-after", "010-1234-5678로 연락 주세요", "[전화번호]로 연락 주세요"),
    Case("phone-glued-both", "휴대폰번호는010.9876.5432입니다", "휴대폰번호는[전화번호]입니다"),
    Case("phone-full-width", "연락처 ０１０-１２３４-５６７８ 입니다", "연락처 [전화번호] 입니다"),
    Case("phone-full-width-hyphen", "０１０－１２３４－５６７８로 연락", "[전화번호]로 연락"),
    Case("phone-full-width-parens", "（０２）１２３－４５６７ 사무실", "[전화번호] 사무실"),
    Case("phone-seoul", "사무실 02-123-4567 로 연락 주세요", "사무실 [전화번호] 로 연락 주세요"),
    Case("phone-seoul-parens", "(02)1234-5678 대표번호 아님", "[전화번호] 대표번호 아님"),
    Case("phone-regional", "부산 지점 051 123 4567 로 연락", "부산 지점 [전화번호] 로 연락"),
    Case("phone-regional-gyeonggi", "031-987-6543 번으로 회신 부탁", "[전화번호] 번으로 회신 부탁"),
    Case("phone-old-mobile", "예전 번호 011-123-4567 도 제 거예요", "예전 번호 [전화번호] 도 제 거예요"),
    Case("phone-voip", "인터넷전화 070-1234-5678", "인터넷전화 [전화번호]"),
    Case("phone-safe-number", "안심번호 0505-123-4567 로 걸려왔어요", "안심번호 [전화번호] 로 걸려왔어요"),
    Case("phone-two-one-space", "010-1234-5678 010-9876-5432 둘 다 제 번호", "[전화번호] [전화번호] 둘 다 제 번호"),
    Case("phone-list", "010-1111-2222, 02-333-4444, 031 555 6666", "[전화번호], [전화번호], [전화번호]"),
    Case("phone-slash-list", "010-1234-5678 / 01098765432 / +82 10-1234-5678 / 02-123-4567 번으로", "[전화번호] / [전화번호] / [전화번호] / [전화번호] 번으로"),
    Case("card-slash-list", "1234-5678-9012-3456 / 4518 1234 5678 9012", "[카드번호] / [카드번호]"),
    Case("card-two-one-space", "1234-5678-9012-3456 4518-1234-5678-9012 두 장", "[카드번호] [카드번호] 두 장"),
    Case("phone-no-break-space", "번호 010\u00a01234\u00a05678 입니다", "번호 [전화번호] 입니다"),
    Case("phone-zero-width", "번호 010\u200b1234\u200b5678 입니다", "번호 [전화번호] 입니다"),
    Case("phone-newline", "연락처\n010-1234-5678\n감사합니다", "연락처\n[전화번호]\n감사합니다"),
    Case("phone-international-prefix", "해외 0082-10-1234-5678 로 전화했어요", "해외 [전화번호] 로 전화했어요"),
    Case("phone-parenthesized-country", "(+82)10-1234-5678 번호 변경", "[전화번호] 번호 변경"),
    Case("phone-non-breaking-hyphen", "phone: 010\u20111234\u20115678", "phone: [전화번호]"),
    Case("phone-horizontal-bar", "010 ― 1234 ― 5678 입니다", "[전화번호] 입니다"),
    Case("phone-comma-list", "010-1234-5678,010-2345-6789 둘 중 하나", "[전화번호],[전화번호] 둘 중 하나"),
    Case("phone-split-eight", "휴대폰 010 12345678 이에요", "휴대폰 [전화번호] 이에요"),
    Case("phone-then-date", "010 1234 5678 2026-11-20 에 통화", "[전화번호] 2026-11-20 에 통화"),
]

RESIDENT_NUMBERS = [
    Case("rrn-hyphen", "주민번호 900101-1234567 확인 부탁", "주민번호 [주민번호] 확인 부탁"),
    Case("rrn-space", "주민등록번호 900101 1234567 입니다", "주민등록번호 [주민번호] 입니다"),
    Case("rrn-en-dash", "900101–2234567 로 가입했어요", "[주민번호] 로 가입했어요"),
    Case("rrn-glued-in-context", "주민번호 9001013234567 입력했는데 오류", "주민번호 [주민번호] 입력했는데 오류"),
    Case("rrn-foreigner", "외국인등록번호 850315-5123456 입니다", "외국인등록번호 [주민번호] 입니다"),
    Case("rrn-full-width", "주민번호 ９００１０１－１２３４５６７", "주민번호 [주민번호]"),
    Case("rrn-partly-hidden", "주민번호 앞자리 900101-1****** 로 조회", "주민번호 앞자리 [주민번호] 로 조회"),
    Case("rrn-glued-korean", "주민번호는900101-1234567이고요", "주민번호는[주민번호]이고요"),
    Case("rrn-spaced-hyphen", "900101 - 1234567 맞나요?", "[주민번호] 맞나요?"),
    Case("rrn-hangul-eu", "주민등록번호 900101ㅡ1234567", "주민등록번호 [주민번호]"),
    Case("rrn-two-one-space", "900101-1234567 950505-2345678 부부입니다", "[주민번호] [주민번호] 부부입니다"),
    Case("rrn-foreigner-spaced", "외국인 등록번호: 991231 6123456 입니다", "외국인 등록번호: [주민번호] 입니다"),
]

CARDS = [
    Case("card-hyphen", "카드 1234-5678-9012-3456 결제 취소", "카드 [카드번호] 결제 취소"),
    Case("card-dots", "1234.5678.9012.3456 카드로 결제했어요", "[카드번호] 카드로 결제했어요"),
    Case("card-spaces", "카드번호 1234 5678 9012 3456 입니다", "카드번호 [카드번호] 입니다"),
    Case("card-glued", "카드 1234567890123456 으로 결제", "카드 [카드번호] 으로 결제"),
    Case("card-en-dash", "신용카드 4518–1234–5678–9012 환불 요청", "신용카드 [카드번호] 환불 요청"),
    Case("card-amex", "아멕스 3782-822463-10005 결제", "아멕스 [카드번호] 결제"),
    Case("card-amex-spaces", "AMEX 3714 496353 98431 로 결제함", "AMEX [카드번호] 로 결제함"),
    Case("card-partly-hidden", "카드 9410-12**-****-3456 승인 내역", "카드 [카드번호] 승인 내역"),
    Case("card-full-width", "카드 ４５１８－１２３４－５６７８－９０１２ 분실", "카드 [카드번호] 분실"),
    Case("card-spaced-hyphens", "카드 1234 - 5678 - 9012 - 3456 결제 실패", "카드 [카드번호] 결제 실패"),
]

BUSINESS_NUMBERS = [
    Case("business-hyphen", "사업자 123-45-67890 입니다", "사업자 [사업자번호] 입니다"),
    Case("business-spaces", "사업자번호 220 81 62517 로 가입", "사업자번호 [사업자번호] 로 가입"),
    Case("business-glued-in-context", "사업자등록번호: 2208162517 확인 부탁", "사업자등록번호: [사업자번호] 확인 부탁"),
    Case("business-dots", "등록번호 123.45.67890 세금계산서", "등록번호 [사업자번호] 세금계산서"),
]

ACCOUNTS = [
    Case("account-bank-spaces", "신한 110 123 456789 으로 환불해 주세요", "신한 [계좌번호] 으로 환불해 주세요"),
    Case("account-bank-hyphen", "환불 계좌: 국민은행 123456-01-234567 로", "환불 계좌: 국민은행 [계좌번호] 로"),
    Case("account-kakao", "카카오뱅크 3333-01-1234567 로 입금 부탁", "카카오뱅크 [계좌번호] 로 입금 부탁"),
    Case("account-toss", "토스뱅크 1000-1234-5678 입니다", "토스뱅크 [계좌번호] 입니다"),
    Case("account-nh-four-groups", "농협 301-0123-4567-81 로 보내주세요", "농협 [계좌번호] 로 보내주세요"),
    Case("account-woori-glued", "우리은행 1002123456789 예금주 홍길동", "우리은행 [계좌번호] 예금주 홍길동"),
    Case("account-hana-dots", "하나 123.456789.12345 로 이체", "하나 [계좌번호] 로 이체"),
    Case("account-ibk", "기업은행 010-123456-01-012 계좌", "기업은행 [계좌번호] 계좌"),
    Case("account-sc", "SC제일은행 123-45-678901 로", "SC제일은행 [계좌번호] 로"),
    Case("account-post-office", "우체국 012345-02-123456 입금했어요", "우체국 [계좌번호] 입금했어요"),
    Case("account-after-keyword", "입금 계좌번호 110-234-567890 맞나요", "입금 계좌번호 [계좌번호] 맞나요"),
    Case("account-refund-keyword", "환불은 3333 02 9876543 으로 해주세요", "환불은 [계좌번호] 으로 해주세요"),
    Case("account-en-dash", "계좌 110–123–456789", "계좌 [계좌번호]"),
    Case("account-no-context-dashes", "이 번호 110-123-456789 로 돈을 보냈는데요", "이 번호 [계좌번호] 로 돈을 보냈는데요"),
    Case("account-full-width", "신한 １１０－１２３－４５６７８９", "신한 [계좌번호]"),
    Case("account-kakao-spaces", "송금 받을 계좌 카카오 3333 12 3456789", "송금 받을 계좌 카카오 [계좌번호]"),
    Case("account-nh-spaces", "입금자명 홍길동 농협 352 1234 5678 13", "입금자명 홍길동 농협 [계좌번호]"),
    Case("account-toss-glued", "토스 100012345678 로 환불 부탁", "토스 [계좌번호] 로 환불 부탁"),
]

PASSPORTS_AND_LICENCES = [
    Case("passport-context", "여권번호 M12345678 로 인증했어요", "여권번호 [여권번호] 로 인증했어요"),
    Case("passport-new-format", "여권 M123A4567 분실 신고", "여권 [여권번호] 분실 신고"),
    Case("passport-no-context", "M87654321 이 제 번호예요", "[여권번호] 이 제 번호예요"),
    Case("passport-two-letters", "여권 번호: AB1234567 입니다", "여권 번호: [여권번호] 입니다"),
    Case("passport-full-width", "여권 Ｍ１２３４５６７８", "여권 [여권번호]"),
    Case("licence-hyphen", "운전면허 11-12-345678-90 인증", "운전면허 [운전면허번호] 인증"),
    Case("licence-spaces", "면허번호 13 05 123456 78 입니다", "면허번호 [운전면허번호] 입니다"),
    Case("licence-glued-in-context", "운전면허번호 111234567890 등록이 안돼요", "운전면허번호 [운전면허번호] 등록이 안돼요"),
    Case("licence-region-name", "면허증 서울 12-345678-90 이에요", "면허증 [운전면허번호] 이에요"),
    Case("licence-no-context", "11-12-345678-90 으로 조회", "[운전면허번호] 으로 조회"),
    Case("licence-region-glued", "면허 서울12-345678-90 맞아요", "면허 [운전면허번호] 맞아요"),
    Case("passport-lowercase", "여권 번호는 m12345678", "여권 번호는 [여권번호]"),
]

EMAILS = [
    Case("email-ascii", "로그인 안됨 hong.gildong@example.com", "로그인 안됨 [이메일]"),
    Case("email-plus-subdomain", "연락은 hong.gildong+voc@mail.example.co.kr 로 주세요", "연락은 [이메일] 로 주세요"),
    Case("email-korean", "김철수@회사.한국 으로 보내주세요", "[이메일] 으로 보내주세요"),
    Case("email-korean-local", "아이디 이영희@naver.com 입니다", "아이디 [이메일] 입니다"),
    Case("email-japanese-domain", "user@例え.jp 로 메일 부탁드립니다", "[이메일] 로 메일 부탁드립니다"),
    Case("email-glued-korean-after", "이메일은 kim_01@gmail.com입니다", "이메일은 [이메일]입니다"),
    Case("email-full-width", "ｈｏｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ 으로 가입", "[이메일] 으로 가입"),
    Case("email-spaced-at", "메일 hong @ daum.net 확인 부탁", "메일 [이메일] 확인 부탁"),
    Case("email-bracket-at", "hong[at]wanted.co.kr 로 보내주세요", "[이메일] 로 보내주세요"),
    Case("email-golbaengi", "hong 골뱅이 naver.com 입니다", "[이메일] 입니다"),
    Case("email-punycode", "hong@xn--9n2bp8q.xn--3e0b707e 주소", "[이메일] 주소"),
    Case("email-uppercase", "HONG.GD@EXAMPLE.COM 으로 부탁", "[이메일] 으로 부탁"),
    Case("email-in-angle-brackets", "보낸사람 <kim.cs@company.io>", "보낸사람 <[이메일]>"),
    Case("email-two", "ab.kim@b.co, 김민수@회사.한국 둘 다 제 메일", "[이메일], [이메일] 둘 다 제 메일"),
]

OTHER_PERSONAL = [
    Case("birth-dots", "생년월일 1990.01.01 입니다", "생년월일 [생년월일] 입니다"),
    Case("birth-korean", "생년월일은 1990년 1월 1일 이에요", "생년월일은 [생년월일] 이에요"),
    Case("birth-six-digits", "생년월일: 900101", "생년월일: [생년월일]"),
    Case("birth-eight-digits", "출생 19900101 로 가입", "출생 [생년월일] 로 가입"),
    Case("birth-month-day", "생일은 3월 5일이에요", "생일은 [생년월일]이에요"),
    Case("birth-hyphen", "생일이 95-12-25 인데 쿠폰이 안 와요", "생일이 [생년월일] 인데 쿠폰이 안 와요"),
    Case("ip-v4", "접속 IP 192.168.0.12 에서 차단됨", "접속 IP [IP] 에서 차단됨"),
    Case("ip-v4-glued", "IP:211.234.5.6 에서 로그인 시도", "IP:[IP] 에서 로그인 시도"),
    Case("ip-v6", "ip 2001:db8::8a2e:370:7334 로 접속", "ip [IP] 로 접속"),
    Case("ip-v6-full", "2001:0db8:85a3:0000:0000:8a2e:0370:7334 에서", "[IP] 에서"),
    Case("birth-slashes", "생일 1995/03/15 이라 쿠폰 문의", "생일 [생년월일] 이라 쿠폰 문의"),
    Case("birth-dob", "DOB: 1990-01-01", "DOB: [생년월일]"),
    Case("ip-several", "ip address: 10.0.0.1, 8.8.8.8", "ip address: [IP], [IP]"),
    Case("url-phone-in-path", "https://example.com/call/010-1234-5678 로 접속", "https://example.com/[URL] 로 접속"),
    Case("url-token", "링크 https://www.wanted.co.kr/reset?token=abc123 클릭", "링크 https://www.wanted.co.kr/[URL] 클릭"),
    Case("url-path", "http://wntd.co/u/hong-gildong 프로필 확인", "http://wntd.co/[URL] 프로필 확인"),
    Case("url-www", "www.wanted.co.kr/profile/12345 에서 수정", "www.wanted.co.kr/[URL] 에서 수정"),
    Case("url-upper-scheme", "HTTPS://wanted.co.kr?code=XYZ987 접속 불가", "HTTPS://wanted.co.kr/[URL] 접속 불가"),
    Case("digits-order", "주문번호 20261120123456 건 문의", "주문번호 [숫자] 건 문의"),
    Case("digits-glued", "회원번호A123456789 조회", "회원번호A[숫자] 조회"),
    Case("digits-full-width", "인증번호 １２３４５６７８９０ 가 안 와요", "인증번호 [숫자] 가 안 와요"),
    Case("mixed-everything", "홍길동(010-1234-5678, hong@x.com) 900101-1234567", "홍길동([전화번호], [이메일]) [주민번호]"),
]

ORDINARY = [
    Case("keep-iso-date", "2026-11-20 에 지원했습니다", "2026-11-20 에 지원했습니다"),
    Case("keep-dotted-date", "2026.11.20 부터 로그인이 안 돼요", "2026.11.20 부터 로그인이 안 돼요"),
    Case("keep-slashed-date", "2026/11/20 결제 건 확인 부탁", "2026/11/20 결제 건 확인 부탁"),
    Case("keep-korean-date", "11월 20일 면접 일정 문의", "11월 20일 면접 일정 문의"),
    Case("keep-time", "09:30 에 면접인데 알림이 안 왔어요", "09:30 에 면접인데 알림이 안 왔어요"),
    Case("keep-time-range", "상담 가능 시간이 14:00~18:00 맞나요", "상담 가능 시간이 14:00~18:00 맞나요"),
    Case("keep-date-time-range", "2026-11-20 10:00 - 12:00 점검", "2026-11-20 10:00 - 12:00 점검"),
    Case("keep-price", "12,000원 결제했는데 환불 부탁드려요", "12,000원 결제했는데 환불 부탁드려요"),
    Case("keep-big-price", "1,200,000원 결제 완료", "1,200,000원 결제 완료"),
    Case("keep-won-sign", "₩35000 청구됐어요", "₩35000 청구됐어요"),
    Case("keep-glued-price", "환불 금액 12000000원 확인", "환불 금액 12000000원 확인"),
    Case("keep-counts", "공고 3건, 지원자 120명 확인", "공고 3건, 지원자 120명 확인"),
    Case("keep-year", "2024년 부터 이용 중입니다", "2024년 부터 이용 중입니다"),
    Case("keep-version", "앱 버전 3.12.1 에서 오류", "앱 버전 3.12.1 에서 오류"),
    Case("keep-v-version", "v10.2.0 업데이트 후 로그인 불가", "v10.2.0 업데이트 후 로그인 불가"),
    Case("keep-ios-version", "iOS 17.4.1 에서 앱이 꺼져요", "iOS 17.4.1 에서 앱이 꺼져요"),
    Case("keep-four-part-version", "빌드 v1.2.3.4 설치", "빌드 v1.2.3.4 설치"),
    Case("keep-percent", "합격률 35.5% 라고 나와요", "합격률 35.5% 라고 나와요"),
    Case("keep-short-numbers", "3번 시도했는데 5분째 로딩", "3번 시도했는데 5분째 로딩"),
    Case("keep-url-without-path", "https://www.wanted.co.kr 참고", "https://www.wanted.co.kr 참고"),
    Case("keep-business-phone", "고객센터 1588-1234 로 전화했어요", "고객센터 1588-1234 로 전화했어요"),
    Case("keep-business-phone-spaced", "대표번호 1644 1234 안내", "대표번호 1644 1234 안내"),
    Case("keep-refund-date", "환불 요청 2026-11-20 접수", "환불 요청 2026-11-20 접수"),
    Case("keep-refund-price", "입금 1,200,000원 확인 부탁", "입금 1,200,000원 확인 부탁"),
    Case("keep-birthday-coupon", "생일 쿠폰 11월 20일까지 쓸 수 있나요", "생일 쿠폰 11월 20일까지 쓸 수 있나요"),
    Case("keep-our-company", "우리 회사 공고 2건 마감 2026.12.31", "우리 회사 공고 2건 마감 2026.12.31"),
    Case("keep-resolution", "해상도 1920x1080 화면에서 깨져요", "해상도 1920x1080 화면에서 깨져요"),
    Case("keep-salary", "연봉 3,500만원 ~ 4,000만원 공고", "연봉 3,500만원 ~ 4,000만원 공고"),
    Case("keep-emoticon", "답변이 없네요 ㅡㅡ; 010 어쩌고는 없어요", "답변이 없네요 ㅡㅡ; 010 어쩌고는 없어요"),
    Case("keep-mention", "@홍길동 님 확인 부탁드려요", "@홍길동 님 확인 부탁드려요"),
    Case("keep-cpp", "std::vector 관련 코딩테스트 문의", "std::vector 관련 코딩테스트 문의"),
    Case("keep-ratio", "경쟁률 12:1 이라고 나와요", "경쟁률 12:1 이라고 나와요"),
    Case("keep-ticket-number", "문의 번호 #123456 에 대해 답변 부탁", "문의 번호 #123456 에 대해 답변 부탁"),
    Case("keep-maintenance", "점검 시간 02:00~04:00 맞나요", "점검 시간 02:00~04:00 맞나요"),
    Case("keep-korean-datetime", "2026년 11월 20일 오후 2시 면접", "2026년 11월 20일 오후 2시 면접"),
    Case("keep-billion-price", "1,234,567,890원 결제 오류", "1,234,567,890원 결제 오류"),
    Case("keep-build-number", "ver 2.10.0.1234 에서 재현", "ver 2.10.0.1234 에서 재현"),
    Case("keep-settlement", "정산 2026-11-20 1,200,000원 입금 예정", "정산 2026-11-20 1,200,000원 입금 예정"),
]
# fmt: on

CORPUS: list[Case] = [
    *PHONES,
    *RESIDENT_NUMBERS,
    *CARDS,
    *BUSINESS_NUMBERS,
    *ACCOUNTS,
    *PASSPORTS_AND_LICENCES,
    *EMAILS,
    *OTHER_PERSONAL,
    *ORDINARY,
]

# Runs a select over the table `tickets (id integer, detail string)` filled with the given texts in
# order, and returns the selected column in id order.
Executor = Callable[[str, Sequence[str]], list[str]]


def render_mask_sql(settings: VocSettings) -> str:
    """The SQL that voc_mask_pii renders for `tickets.detail` on the settings' dbt target (one dbt call)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        invoke_dbt(settings, ["--quiet", "run-operation", "voc_render_pii_mask"])
    rendered: dict[str, str] = json.loads(out.getvalue().strip().splitlines()[-1])
    return rendered["voc_mask_pii"]


def mask_corpus(mask_sql: str, execute: Executor, cases: Sequence[Case] = CORPUS) -> dict[str, str]:
    """Every case's masked text (by case id), masked by the rendered SQL on the executor's warehouse."""
    masked = execute(f"select {mask_sql} as detail from tickets order by id", [case.text for case in cases])
    return {case.id: text for case, text in zip(cases, masked, strict=True)}


def secrets(case: Case) -> list[str]:
    """The raw personal parts of a case's text that masking removes (digit runs, IPs, email names, URL
    paths), as written and in plain width: none of them may survive anywhere downstream."""
    found: set[str] = set()
    for text in (case.text, unicodedata.normalize("NFKC", case.text)):
        found.update(re.findall(r"\d{4,}", text))
        found.update(re.findall(r"\d{1,3}(?:\.\d{1,3}){3}", text))
        found.update(re.findall(r"([^\s<(]+?)\s?(?:@|＠|\[at\]| 골뱅이 )", text))
        found.update(re.findall(r"(?i:https?://|www\.)[^\s/?#]+([/?#][^\s<>\"]+)", text))
    return sorted(part for part in found if part not in case.masked)
